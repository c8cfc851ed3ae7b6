/** Child process for runtime.test.ts: stops via exitOnSignals with a stop step that takes STOP_MS. */
import { createLogger, exitOnSignals } from '../../src';

const stopMs = Number(process.env.STOP_MS ?? 0);
const logger = createLogger({ level: 'info', bindings: { service: 'signal-child' } });
let stops = 0;
exitOnSignals(
  logger,
  async () => {
    stops++;
    logger.info('stop step', { stops });
    if (process.env.STOP_FAILS) throw new Error('stop failed on purpose');
    await new Promise((r) => setTimeout(r, stopMs));
  },
  Number(process.env.TIMEOUT_MS ?? 30_000),
);
setInterval(() => {}, 1_000); // stay alive until signalled
process.stdout.write('ready\n');
