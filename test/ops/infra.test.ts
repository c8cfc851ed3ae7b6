/**
 * Static checks of the ops files: Grafana dashboards and provisioning, Prometheus rules and
 * configs, docker-compose.yml. No stack needed; promtool checks run when promtool is installed
 * (CI installs the Debian `prometheus` package, which ships it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseDocument } from 'yaml';
import {
  allPanels,
  brokerSeries,
  contractSeries,
  dashboardQueries,
  defaultProcessSeries,
  loadDashboards,
  metricNames,
  repoRoot,
  substitute,
  templateVariables,
} from './promql';

const infra = join(repoRoot, 'infra');
const rulesDir = join(infra, 'prometheus', 'rules');
const ruleFiles = readdirSync(rulesDir)
  .filter((f) => f.endsWith('.yml') && !f.startsWith('.')) // dotfiles: test-only copies written by dashboards.int.test.ts
  .map((f) => join(rulesDir, f));

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules: Rule[] = ruleFiles.flatMap((f) => (parse(readFileSync(f, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules));

function hasPromtool(): boolean {
  return spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
}

let allowed: Set<string>;
beforeAll(async () => {
  allowed = new Set([...contractSeries().keys(), ...(await defaultProcessSeries()), ...brokerSeries, 'up']);
});

describe('metric name scanner', () => {
  it('finds metric names and ignores functions, labels, grouping and durations', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, instance) (rate(foo_bucket{instance=~"$engine", le!="x"}[$__rate_interval]))) / ignoring(a) group_left sum(bar) offset 5m',
      ).sort(),
    ).toEqual(['bar', 'foo_bucket']);
    expect(metricNames('up{job="nextact"} == 0 and on() vector(1)')).toEqual(['up']);
    expect(metricNames('time() - process_start_time_seconds{service=~"$service"}')).toEqual(['process_start_time_seconds']);
  });

  it('substitutes Grafana built-ins and template variables', () => {
    expect(substitute('rate(x{instance=~"$engine"}[$__rate_interval]) + increase(y[$__range])', { engine: '.*' })).toBe(
      'rate(x{instance=~".*"}[1m]) + increase(y[5m])',
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${var} syntax, not a JS template
    expect(substitute('x{a=~"${svc}"}', { svc: 'gateway|engine' })).toBe('x{a=~"gateway|engine"}');
  });
});

describe('grafana provisioning and dashboards', () => {
  const datasources = parse(readFileSync(join(infra, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
    datasources: { uid: string; type: string; url: string }[];
  };
  const uids = new Set(datasources.datasources.map((d) => d.uid));
  const dashboards = loadDashboards();

  it('provisions a prometheus datasource with a fixed uid and a dashboards provider', () => {
    expect(datasources.datasources).toEqual(expect.arrayContaining([expect.objectContaining({ uid: 'prometheus', type: 'prometheus' })]));
    const providers = parse(readFileSync(join(infra, 'grafana/provisioning/dashboards/nextact.yml'), 'utf8')) as {
      providers: { type: string; options: { path: string } }[];
    };
    expect(providers.providers[0]).toMatchObject({ type: 'file', options: { path: '/var/lib/grafana/dashboards' } });
  });

  it('has the four dashboards, each with a unique uid', () => {
    expect(dashboards.map((d) => d.file)).toEqual(['nextact-decisions.json', 'nextact-pipeline.json', 'nextact-sink.json', 'nextact-stack.json']);
    const ids = dashboards.map((d) => d.json.uid);
    expect(new Set(ids).size).toBe(ids.length);
    for (const d of dashboards) expect(allPanels(d).length).toBeGreaterThan(5);
  });

  it.each(loadDashboards().map((d) => [d.file, d] as const))('%s: every panel uses a provisioned datasource and has queries', (_file, d) => {
    const problems: string[] = [];
    for (const p of allPanels(d)) {
      const where = `panel "${p.title}"`;
      if (!p.datasource?.uid || !uids.has(p.datasource.uid)) problems.push(`${where}: datasource uid ${p.datasource?.uid} is not provisioned`);
      if (!p.targets?.length) problems.push(`${where}: no targets`);
      for (const t of p.targets ?? []) {
        if (!t.expr?.trim()) problems.push(`${where} ${t.refId}: empty expr`);
        if (t.datasource && !uids.has(t.datasource.uid ?? ''))
          problems.push(`${where} ${t.refId}: target datasource uid ${t.datasource.uid} is not provisioned`);
      }
    }
    for (const v of d.json.templating?.list ?? []) {
      if (v.type === 'query' && !uids.has(v.datasource?.uid ?? '')) problems.push(`variable ${v.name}: datasource not provisioned`);
    }
    expect(problems).toEqual([]);
  });

  it('uses only contract metrics, prom-client defaults and up; every variable used is defined', () => {
    const problems: string[] = [];
    for (const d of dashboards) {
      const vars = new Set(templateVariables(d));
      for (const q of dashboardQueries([d])) {
        for (const name of metricNames(q.expr)) if (!allowed.has(name)) problems.push(`${q.dashboard} "${q.panel}": unknown metric ${name}`);
        for (const m of q.expr.matchAll(/\$(?:\{(\w+)\}|(\w+))/g)) {
          const v = (m[1] ?? m[2])!;
          if (!v.startsWith('__') && !vars.has(v)) problems.push(`${q.dashboard} "${q.panel}": undefined variable $${v}`);
        }
        if (/\brate\(|\bincrease\(/.test(q.expr) && !/\[\$__rate_interval\]|\[\$__range\]/.test(q.expr)) {
          problems.push(`${q.dashboard} "${q.panel}": rate/increase without $__rate_interval or $__range`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('narrows every selector by an instance variable, so a query can be pinned to one run', () => {
    const problems: string[] = [];
    for (const q of dashboardQueries(dashboards)) {
      for (const name of metricNames(q.expr)) {
        for (const m of q.expr.matchAll(new RegExp(`(?<![\\w:.$])${name}(?![\\w:])(\\{[^}]*\\})?`, 'g'))) {
          if (!/instance=~"\$\w+"/.test(m[1] ?? '')) problems.push(`${q.dashboard} "${q.panel}": ${name}${m[1] ?? ''} has no instance=~"$var" matcher`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('covers every contract metric in some dashboard', () => {
    const used = new Set(dashboardQueries(dashboards).flatMap((q) => metricNames(q.expr)));
    const families = new Set([...used].map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    const missing = [...contractSeries().keys()].filter((s) => !used.has(s) && !families.has(s.replace(/_(bucket|sum|count)$/, '')));
    expect(missing).toEqual([]);
  });
});

describe('prometheus rules', () => {
  it('every alert has a severity label, summary/description/runbook annotations and a for', () => {
    const alerts = rules.filter((r) => r.alert);
    expect(alerts.map((a) => a.alert)).toEqual(
      expect.arrayContaining([
        'NextActServiceDown',
        'NextActEngineConsumerLagGrowing',
        'NextActSinkConsumerLagGrowing',
        'NextActDecisionLatencyHigh',
        'NextActDeadLetters',
        'NextActSinkInsertErrors',
        'NextActEngineTransactionAborts',
        'NextActEngineRestoreSlow',
        'NextActEngineStalled',
      ]),
    );
    for (const a of alerts) {
      expect({ alert: a.alert, severity: ['critical', 'warning', 'info'].includes(a.labels?.severity ?? '') }).toEqual({ alert: a.alert, severity: true });
      for (const k of ['summary', 'description', 'runbook'])
        expect({ alert: a.alert, [k]: (a.annotations?.[k] ?? '').length > 10 }).toEqual({ alert: a.alert, [k]: true });
      expect(a.for).toMatch(/^\d+[smh]$/);
    }
  });

  it('rules reference only contract metrics, defaults, up and recorded series', () => {
    const recorded = new Set(rules.filter((r) => r.record).map((r) => r.record!));
    const problems = rules.flatMap((r) =>
      metricNames(r.expr)
        .filter((n) => !allowed.has(n) && !recorded.has(n))
        .map((n) => `${r.alert ?? r.record}: ${n}`),
    );
    expect(problems).toEqual([]);
  });

  const promtool = hasPromtool();
  if (!promtool) {
    it.skip('promtool checks (promtool not installed: apt-get install -y --no-install-recommends prometheus)', () => {});
    // Say it where people look, not only in the skipped test's name.
    console.warn('test/ops/infra.test.ts: promtool not found; skipping promtool check rules/config/test rules');
  } else {
    it('promtool check rules passes', () => {
      const out = execFileSync('promtool', ['check', 'rules', ...ruleFiles], { encoding: 'utf8' });
      expect(out).toMatch(/SUCCESS/);
    });
    it('promtool check config passes for the compose config', () => {
      const out = execFileSync('promtool', ['check', 'config', join(infra, 'prometheus/prometheus.compose.yml')], { encoding: 'utf8' });
      expect(out).toMatch(/SUCCESS/);
    });
    it('promtool test rules: every alert fires on synthetic input and stays quiet otherwise', () => {
      const res = spawnSync('promtool', ['test', 'rules', join(infra, 'prometheus/tests/alerts.test.yml')], { encoding: 'utf8' });
      expect({ status: res.status, out: res.stdout + res.stderr }).toEqual({ status: 0, out: expect.stringContaining('SUCCESS') });
    });
  }
});

describe('docker-compose.yml', () => {
  const compose = parseDocument(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }).toJS() as {
    services: Record<string, { ports?: string[]; environment?: Record<string, string>; volumes?: string[]; healthcheck?: unknown; depends_on?: unknown }>;
  };
  const promCompose = parse(readFileSync(join(infra, 'prometheus/prometheus.compose.yml'), 'utf8')) as {
    scrape_configs: { job_name: string; static_configs: { targets: string[]; labels: { service: string } }[] }[];
  };

  it('publishes every port on 127.0.0.1 only and has a healthcheck per service', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const p of svc.ports ?? []) expect({ name, port: p }).toEqual({ name, port: expect.stringMatching(/^127\.0\.0\.1:\d+:\d+$/) });
      expect({ name, healthcheck: svc.healthcheck !== undefined }).toEqual({ name, healthcheck: true });
    }
  });

  it('runs the four NextAct services on the ports Prometheus scrapes, listening on all container interfaces', () => {
    const job = promCompose.scrape_configs.find((j) => j.job_name === 'nextact')!;
    const envPort = { gateway: 'GATEWAY_PORT', engine: 'ENGINE_PORT', analytics: 'ANALYTICS_PORT', simulator: 'SIMULATOR_PORT' } as const;
    for (const [service, key] of Object.entries(envPort)) {
      const svc = compose.services[service]!;
      expect(svc.environment).toMatchObject({ SERVICE: service, HTTP_HOST: '0.0.0.0', SCHEMA_REGISTRY_URL: 'http://registry:8080/apis/ccompat/v7' });
      const target = job.static_configs.find((c) => c.labels.service === service)!.targets[0];
      expect(target).toBe(`${service}:${svc.environment![key]}`);
    }
    expect(compose.services.analytics!.environment!.CLICKHOUSE_URL).toBe('http://clickhouse:8123');
  });

  it('mounts the files this repo provides', () => {
    for (const svc of ['prometheus', 'grafana']) {
      for (const v of compose.services[svc]!.volumes ?? []) {
        const host = v.split(':')[0]!;
        if (host.startsWith('./')) expect({ v, exists: existsSync(join(repoRoot, host)) }).toEqual({ v, exists: true });
      }
    }
  });

  it('builds one image whose CMD runs services/$SERVICE/src/main.ts on 0.0.0.0', () => {
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    // The image runs the Node major the project pins (.nvmrc), like the setup does.
    const major = readFileSync(join(repoRoot, '.nvmrc'), 'utf8').trim();
    expect(dockerfile).toMatch(new RegExp(`^FROM node:${major}-slim`, 'm'));
    expect(dockerfile).toMatch(/RUN npm ci/);
    expect(dockerfile).toMatch(/HTTP_HOST=0\.0\.0\.0/);
    expect(dockerfile).toMatch(/tsx services\/\$SERVICE\/src\/main\.ts/);
    const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['node_modules', '.cache', '.stack', '.git']));
  });
});
