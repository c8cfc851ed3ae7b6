/** The reports as plain text (the report CLI); each report renders itself, this picks by name. */
import { type AttributionReport, renderAttribution } from './attribution';
import { type ClvReport, renderClv } from './clv';
import { type OpeReport, renderOpe } from './ope';
import type { ReportName } from './routes';
import { renderSatisfaction, type SatisfactionReport } from './satisfaction';
import { renderSegments, type SegmentsReport } from './segments';

export function render(name: ReportName, report: unknown): string {
  switch (name) {
    case 'attribution':
      return renderAttribution(report as AttributionReport);
    case 'clv':
      return renderClv(report as ClvReport);
    case 'satisfaction':
      return renderSatisfaction(report as SatisfactionReport);
    case 'ope':
      return renderOpe(report as OpeReport);
    case 'segments':
      return renderSegments(report as SegmentsReport);
  }
}
