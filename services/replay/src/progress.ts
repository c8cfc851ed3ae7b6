/**
 * Progress of a bounded replay: a bar redrawn in place on a terminal, one line every few seconds
 * otherwise (CI logs, files); and the resumable position, written atomically to a progress file.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { invalid } from './range';

export interface ProgressSink {
  write(text: string): void;
  isTTY?: boolean;
}

export class ProgressReporter {
  private done = 0n;
  private lastDraw = 0;
  private readonly started = Date.now();

  constructor(
    private readonly label: string,
    private readonly total: bigint,
    private readonly out: ProgressSink = process.stderr,
    private readonly everyMs = process.stderr.isTTY ? 200 : 5_000,
  ) {}

  /** Offsets done so far (resumed work counts as done). */
  advance(offsets: bigint, extra = ''): void {
    this.done += offsets;
    const now = Date.now();
    if (now - this.lastDraw < this.everyMs) return;
    this.lastDraw = now;
    this.draw(extra);
  }

  finish(extra = ''): void {
    this.draw(extra);
    if (this.out.isTTY) this.out.write('\n');
  }

  private draw(extra: string): void {
    const total = this.total > 0n ? this.total : 1n;
    const share = Number((this.done * 1000n) / total) / 1000;
    const secs = Math.max(0.001, (Date.now() - this.started) / 1000);
    const rate = Number(this.done) / secs;
    const figures = `${(share * 100).toFixed(1)}% ${this.done}/${this.total} offsets ${fmtRate(rate)}${extra ? ` ${extra}` : ''}`;
    if (this.out.isTTY) {
      const width = 30;
      const filled = Math.min(width, Math.round(share * width));
      this.out.write(`\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${figures}\u001b[K`);
    } else {
      this.out.write(`${this.label} ${figures}\n`);
    }
  }
}

export const fmtRate = (perSec: number): string => (perSec >= 10_000 ? `${(perSec / 1000).toFixed(1)}k/s` : `${Math.round(perSec)}/s`);

/** The resumable state of a run: what it is (identity) and how far it got. */
export interface ProgressFile<P> {
  format: 1;
  command: string;
  /** A digest of everything that shapes the output (range, policy, output): resuming another run is refused. */
  identity: string;
  position: P;
}

export function readProgress<P>(file: string, command: string, identity: string): P | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const saved = JSON.parse(text) as ProgressFile<P>;
  if (saved.command !== command || saved.identity !== identity)
    throw invalid(
      `${file} is the progress of another run (${saved.command}, identity ${saved.identity.slice(0, 12)}): pass the same arguments to resume it, or --restart to start over`,
    );
  return saved.position;
}

/** Temp file + rename: an interrupt never leaves half a progress file. */
export function writeProgress<P>(file: string, command: string, identity: string, position: P): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ format: 1, command, identity, position } satisfies ProgressFile<P>));
  renameSync(tmp, file);
}

export function clearProgress(file: string): void {
  rmSync(file, { force: true });
}

/** Set by SIGINT/SIGTERM: a replay stops at the next safe point, saves its position and exits. */
export class Interrupt {
  requested = false;
  private readonly onSignal = () => {
    if (this.requested) process.exit(130); // a second Ctrl-C means now
    this.requested = true;
    process.stderr.write('\ninterrupt: saving progress (Ctrl-C again to quit at once)\n');
  };

  listen(): this {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    return this;
  }

  close(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

export class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}
