/**
 * An engine process for crash and rebalance tests: the real service wiring (config, provision,
 * runtime, HTTP, signals) with the fake domain. Prints its ops URL as one JSON line on stdout.
 */
import { startEngineService } from '../../src/runtime/service';
import { fakeDomain } from './fake-domain';

startEngineService({ handleSignals: true, domain: () => fakeDomain() }).then(
  (svc) => {
    process.stdout.write(`${JSON.stringify({ url: svc.http.url, instance: svc.settings.instanceId })}\n`);
  },
  (err) => {
    process.stderr.write(`engine child failed: ${String(err)}\n`);
    process.exit(1);
  },
);
