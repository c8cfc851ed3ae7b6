/**
 * The acceptance test: the simulator runs with known ground-truth effects, the real engine
 * decides (with randomized control groups), the real analytics sink stores everything, and the
 * attribution and satisfaction reports must recover the sign and rough size of each effect.
 *
 * Engine and analytics run as child processes like scripts/demo.ts does (closest to production;
 * chdb allows one process per data folder, so the analytics process owns the store and the test
 * reads the reports over its HTTP API).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeExperimentPolicy } from '../../scripts/lib/experiment-policy';
import { freePort, logTail, type ServiceName, type ServiceProcess, scrape, startService, stopService, total, waitReady } from '../../scripts/lib/services';
import type { AttributionReport, UpliftRow } from '../../services/analytics/src/reports/attribution';
import type { SatisfactionReport } from '../../services/analytics/src/reports/satisfaction';
import { kafkaFromConfig, loadConfig, silentLogger, topicSpecs } from '../../services/core/src';

jest.setTimeout(300_000);

// Ground truth, stated here and passed to the simulator explicitly. The lift is twice the default
// 0.15 so a run of under 3 minutes has the power to show it (see the size check below).
const LIFT = 0.3; // offer_discount in CONSIDERATION: P(purchase within 72 h) +0.30 absolute
const WINDOW_HOURS = 72;
const CSAT_DELTA = -1; // satisfaction_survey within 24 h after a complaint: CSAT -1.0
const NPS_DELTA = -2;

// Size of the run: a simulated customer makes ~9 events a day, so 45,000 events over 900
// customers span ~5-6 simulated days, long enough for most 72 h windows to close, with several
// hundred offer_discount deliveries and more held-out decisions.
const EVENTS = Number(process.env.E2E_EVENTS ?? 45_000);
const CUSTOMERS = Number(process.env.E2E_CUSTOMERS ?? 900);
// Paced below the engine's throughput on a busy 2-core machine (~500 events/s with ~0.7 decisions
// per event): the simulator answers a decision at max(decision time, its clock), and at ~1 h of
// simulated time per wall second an engine lagging by seconds moves reactions hours later, out of
// the 72 h window (at 1,000 events/s the median delay was 6 h and the measured lift 0.056).
const RATE = Number(process.env.E2E_RATE ?? 450);
const SEED = Number(process.env.E2E_SEED ?? 20261123);

const prefix = `e2e-gt-${randomBytes(4).toString('hex')}.`;
const dir = mkdtempSync(join(tmpdir(), 'nextact-e2e-gt-'));
const children: ServiceProcess[] = [];
let env: NodeJS.ProcessEnv;
let ports: { engine: number; analytics: number; simulator: number };

function start(service: ServiceName, port: number, args: string[] = []): ServiceProcess {
  const svc = startService(service, { env, port, args, logFile: join(dir, `${service}.log`) });
  children.push(svc);
  return svc;
}

const tailOf = (service: ServiceName) => {
  const svc = children.find((c) => c.name === service);
  return svc ? logTail(svc, 15) : '(not started)';
};

const metric = async (port: number, name: string) => total(await scrape(port), name);

async function report<T>(name: string, params: Record<string, string> = {}): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${ports.analytics}/v1/reports/${name}?${new URLSearchParams(params)}`, {
    signal: AbortSignal.timeout(120_000),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`report ${name}: ${res.status} ${JSON.stringify(body)}`);
  return body as T;
}

beforeAll(async () => {
  // The shipped policy with its experiments sized for a short run (scripts/lib/experiment-policy.ts,
  // shared with the demo): larger holdouts, and a survey after complaints as a real candidate.
  const policyFile = writeExperimentPolicy(dir, 'e2e');

  ports = { engine: await freePort(), analytics: await freePort(), simulator: await freePort() };
  env = {
    ...process.env,
    NEXTACT_TOPIC_PREFIX: prefix,
    CHDB_PATH: join(dir, 'chdb'),
    ENGINE_STATE_DIR: join(dir, 'engine'),
    POLICY_FILE: policyFile,
    ENGINE_PORT: String(ports.engine),
    ANALYTICS_PORT: String(ports.analytics),
    SIMULATOR_PORT: String(ports.simulator),
    LOG_LEVEL: 'warn',
  };
  await Promise.all([start('engine', ports.engine), start('analytics', ports.analytics)].map((svc) => waitReady(svc, 120_000)));
});

afterAll(async () => {
  await Promise.all(children.map((c) => stopService(c)));
  const config = loadConfig({ ...process.env, NEXTACT_TOPIC_PREFIX: prefix });
  const kafka = kafkaFromConfig(config, silentLogger, 'e2e-ground-truth-cleanup');
  const admin = await kafka.admin();
  try {
    // The spec'd topics plus anything else the services created under this run's prefix.
    const names = new Set([...topicSpecs(config).map((s) => s.name), ...(await admin.listTopics()).filter((t) => t.startsWith(prefix))]);
    const existing = new Set(await admin.listTopics());
    await admin.deleteTopics([...names].filter((n) => existing.has(n)));
  } finally {
    await admin.close();
  }
  if (!process.env.E2E_KEEP) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
});

test('the reports recover the ground-truth conversion lift and CSAT harm, with control groups', async () => {
  const t0 = Date.now();
  // `--name=value`: parseArgs refuses a separate argument that starts with a dash (-1).
  const sim = start('simulator', ports.simulator, [
    `--seed=${SEED}`,
    `--customers=${CUSTOMERS}`,
    `--count=${EVENTS}`,
    `--rate=${RATE}`,
    '--sink=kafka',
    '--respond',
    `--ops-port=${ports.simulator}`,
    `--lift=${LIFT}`,
    `--csat-delta=${CSAT_DELTA}`,
    `--nps-delta=${NPS_DELTA}`,
    // The lift applies to customers the engine has in CONSIDERATION, the segment the report slices
    // by (with the simulator's own stage model the estimate came out at about half the truth).
    '--stage-from=decision',
    '--no-progress',
  ]);
  const code = await sim.exited;
  if (code !== 0) throw new Error(`simulator exited with ${code}:\n${tailOf('simulator')}`);
  const simSec = (Date.now() - t0) / 1000;

  // Caught up: both lags are 0 and the sink's row count stays unchanged over three polls (longer
  // than its flush interval). The sink's lag reaches 0 on the transactional decisions topic too: it
  // commits past the commit markers behind its last record.
  const deadline = Date.now() + 120_000;
  let last = '';
  let rows = 0;
  let stable = 0;
  let lags = { engine: -1, sink: -1 };
  while (stable < 3) {
    if (Date.now() > deadline) throw new Error(`engine/sink did not catch up (${last}):\n${tailOf('engine')}\n${tailOf('analytics')}`);
    await new Promise((r) => setTimeout(r, 2_000));
    const [engineLag, sinkLag, sinkRows] = await Promise.all([
      metric(ports.engine, 'nextact_engine_consumer_lag'),
      metric(ports.analytics, 'nextact_sink_consumer_lag'),
      metric(ports.analytics, 'nextact_sink_rows_total'),
    ]);
    const now = `${sinkRows}/${sinkLag}`;
    stable = engineLag === 0 && sinkLag === 0 && sinkRows > 0 && now === last ? stable + 1 : 0;
    last = now;
    rows = sinkRows;
    lags = { engine: engineLag, sink: sinkLag };
  }
  const decisions = await metric(ports.engine, 'nextact_engine_decisions_total');

  // Reports arrive as JSON: the analytics types describe them.
  const attribution = await report<AttributionReport>('attribution', { windowHours: String(WINDOW_HOURS) });
  const satisfaction = await report<SatisfactionReport>('satisfaction');
  const offer = attribution.uplift.find((u) => u.actionId === 'offer_discount' && u.journeyStage === 'CONSIDERATION');
  const survey = satisfaction.csatByArm.filter((u) => u.actionId === 'satisfaction_survey');
  const surveySegments = satisfaction.segments.filter((r) => r.actionId === 'satisfaction_survey');
  console.log(
    JSON.stringify(
      {
        prefix,
        simSec,
        totalSec: (Date.now() - t0) / 1000,
        sinkRows: rows,
        lags,
        decisions,
        offer,
        surveyTiming: satisfaction.surveyExperiments,
        survey,
        surveySegments,
        joinedBy: satisfaction.joinedBy,
      },
      null,
      2,
    ),
  );

  // 1. offer_discount in CONSIDERATION: conversion within 72 h, TREATMENT (delivered) vs CONTROL
  //    (held out by the browse experiment, nothing sent).
  expect(offer).toBeDefined();
  const o = offer as UpliftRow;
  expect(o.treatmentN).toBeGreaterThanOrEqual(150);
  expect(o.controlN).toBeGreaterThanOrEqual(150);
  expect(o.uplift).toBeGreaterThan(0);
  expect(o.ci95.low).toBeGreaterThan(0);
  // Rough size. The report compares each customer's first decision per action and stage, with
  // closed windows only (migration 004): per-decision counting had let held-out customers, whom no
  // cooldown or cap slows down, dominate CONTROL and shrank the estimate to ~1/3 of the truth.
  // Measured with a holdout of whole browse decision points: 0.306-0.325 (4 runs), then 0.387 and
  // 0.391 after a policy change reshuffled the draws, and 0.272 with seed 7. Such a holdout frees
  // CONTROL's contact caps, so its first offer can come earlier in the journey than TREATMENT's (a
  // likely upward bias). With the offer-only holdout now in the policy: 0.339, and 0.311 with seed 7
  // (95% CIs ±0.07, both covering 0.30). With the lift keyed to the simulator's own stage model
  // instead of the engine's (--stage-from=world) it was ~0.145.
  expect(o.uplift).toBeGreaterThan(LIFT / 2);
  expect(o.uplift).toBeLessThan(LIFT * 1.5);

  // 2. satisfaction_survey within 24 h after a complaint: CSAT -1, NPS -2. The survey-timing
  //    experiment sends TREATMENT's survey then and CONTROL's 48 h later (outside the 24 h), so the
  //    answers of the two arms differ by the harm, plus a little: CONTROL answers when the mood the
  //    complaint dented has recovered for two more days (7-day half-life in the simulator).
  const timing = satisfaction.surveyExperiments.find((x) => x.experimentId === 'survey-timing-2026q4' && x.actionId === 'satisfaction_survey');
  expect(timing).toBeDefined();
  const t = timing as SatisfactionReport['surveyExperiments'][number];
  // Measured: 25-33 answers in TREATMENT, 9-17 in CONTROL, whose surveys deferred in the run's last
  // 48 simulated hours are still pending when it ends (~18 of ~48). The interval below is the test
  // of power; these only catch an experiment that stopped collecting answers.
  expect(t.treatment.answered).toBeGreaterThanOrEqual(5);
  expect(t.control.answered).toBeGreaterThanOrEqual(5);
  expect(t.control.deferred).toBeGreaterThanOrEqual(t.control.delivered);
  expect(t.treatment.deferred).toBe(0);
  const csat = t.csat as NonNullable<typeof t.csat>;
  expect(csat.difference).toBeLessThan(0);
  expect(csat.ci95.high).toBeLessThan(0);
  // Rough size: more than a third of the truth, less than twice it. Measured with the shipped
  // seed: -0.79 to -0.96 (CI upper ends -0.36 to -0.43), NPS -1.35 to -1.91 against -2; with seed 7:
  // -0.63 (CI upper end -0.16) and -1.75 (-1.04 and -2.22 under an earlier policy version). About 16-32
  // answers per arm, so a third is the floor that stays clear of that spread.
  expect(csat.difference).toBeLessThan(CSAT_DELTA / 3);
  expect(csat.difference).toBeGreaterThan(CSAT_DELTA * 2);
  expect(t.nps?.difference).toBeLessThan(0);
}, 280_000);
