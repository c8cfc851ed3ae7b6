/**
 * The one service shell: every long-running NextAct process starts in the same fixed order, so
 * /healthz answers and a stop signal is honoured from the first second, and /readyz always says
 * what the service is waiting for.
 *
 *   config → logger → metrics → HTTP (/metrics, /healthz, /readyz) → signals → Kafka client and
 *   codec → prepare (local resources, e.g. migrations) → provision topics and schemas (retried,
 *   the failure on /readyz) → start → ready
 *
 * A service's main.ts is then its own wiring only: what it prepares, what it starts, what it serves.
 */
import type { Registry } from 'prom-client';
import { type Config, loadConfig } from './config';
import type { RecordCodec } from './contracts/codec';
import { type HttpService, type Readiness, type RouteHandler, startHttpService } from './http';
import type { KafkaClient } from './kafka';
import { createLogger, type Logger } from './logger';
import { createMetricsRegistry } from './metrics';
import { codecFromConfig, exitOnSignals, kafkaFromConfig, provisionUntilReady } from './runtime';

export interface ServiceContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly kafka: KafkaClient;
  readonly codec: RecordCodec;
  /** The HTTP face, listening from the first step (its url for logs and tests). */
  readonly http: HttpService;
  /** True once a stop was asked for: long start-up steps check it and return early. */
  readonly stopping: boolean;
  /** The reason /readyz gives until the service declares itself ready. */
  notReady(reason: string): void;
  /** What /readyz answers now. */
  readonly status: Readiness;
  /** Serves these routes from now on (until then the shell answers 404, or `routesWhileStarting`). */
  serve(routes: RouteHandler): void;
  /** Declares the service's own readiness from now on (default after start: ready). */
  readiness(check: () => Readiness): void;
  /** Runs on stop, last registered first, before the HTTP server closes. */
  onStop(step: () => Promise<void> | void): void;
}

export interface ServiceSpec<T> {
  /** Service name: metrics label, log binding and HTTP /healthz body. */
  name: string;
  /** The service's HTTP port from configuration (0 = any free port). */
  port: (config: Config) => number;
  env?: NodeJS.ProcessEnv;
  /** Defaults to a JSON logger at LOG_LEVEL bound to `service: name` plus `bindings`. */
  logger?: Logger;
  bindings?: (config: Config) => Record<string, unknown>;
  /** Client id suffix of the Kafka client (default the name). */
  kafkaClientSuffix?: (config: Config) => string;
  /** Bearer token every service route needs (not /metrics, /healthz, /readyz); undefined = open. */
  routeToken?: (config: Config) => string | undefined;
  /** Apply HTTP_RATE_LIMIT to the service routes (default true). */
  rateLimit?: boolean;
  /** Routes answered before `serve` is called (e.g. a 503 for the ingest path while provisioning). */
  routesWhileStarting?: (ctx: ServiceContext) => RouteHandler;
  /** Before provisioning: local resources that do not need Kafka (e.g. ClickHouse migrations). */
  prepare?: (ctx: ServiceContext) => Promise<void> | void;
  /** Skip topic and schema provisioning (a service that only reads topics others create). Default false. */
  skipProvision?: boolean;
  /** After provisioning: build and start the service; the value is handed back in the handle. */
  start: (ctx: ServiceContext) => Promise<T> | T;
  /** Stop on SIGTERM/SIGINT and exit the process (main.ts: true; tests: false). Default true. */
  handleSignals?: boolean;
}

export interface ServiceHandle<T> {
  config: Config;
  logger: Logger;
  metrics: Registry;
  http: HttpService;
  service: T;
  /** Runs the stop steps (last registered first) and closes HTTP; idempotent. */
  stop(): Promise<void>;
}

export async function runService<T>(spec: ServiceSpec<T>): Promise<ServiceHandle<T>> {
  const config = loadConfig(spec.env ?? process.env);
  const logger = spec.logger ?? createLogger({ level: config.logLevel, bindings: { service: spec.name, ...spec.bindings?.(config) } });
  const metrics = createMetricsRegistry(spec.name);

  let reason = 'starting';
  let check: (() => Readiness) | undefined;
  let routes: RouteHandler | undefined;
  let stopping = false;
  const stopSteps: (() => Promise<void> | void)[] = [];
  let early: RouteHandler | undefined;
  const status = (): Readiness => (stopping ? { ready: false, reason: 'stopping' } : check ? check() : { ready: false, reason });

  const http = await startHttpService({
    name: spec.name,
    host: config.httpHost,
    port: spec.port(config),
    metrics,
    logger,
    routeToken: spec.routeToken?.(config),
    rateLimit: spec.rateLimit === false ? undefined : config.httpRateLimit,
    readiness: () => status(),
    routes: (req, res) => (routes ?? early)?.(req, res) ?? false,
  });

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopping = true;
    stopped ??= (async () => {
      for (const step of stopSteps.reverse()) {
        try {
          await step();
        } catch (err) {
          logger.warn('stop step failed', { err });
        }
      }
      await http.close();
    })();
    return stopped;
  };
  if (spec.handleSignals !== false) exitOnSignals(logger, stop);

  const kafka = kafkaFromConfig(config, logger, spec.kafkaClientSuffix?.(config) ?? spec.name);
  const codec = codecFromConfig(config, logger);
  const ctx: ServiceContext = {
    config,
    logger,
    metrics,
    kafka,
    codec,
    http,
    get stopping() {
      return stopping;
    },
    get status() {
      return status();
    },
    notReady: (why) => {
      reason = why;
    },
    serve: (handler) => {
      routes = handler;
    },
    readiness: (fn) => {
      check = fn;
    },
    onStop: (step) => {
      stopSteps.push(step);
    },
  };
  early = spec.routesWhileStarting?.(ctx);

  try {
    if (spec.prepare) await spec.prepare(ctx);
    if (!spec.skipProvision && !stopping) {
      reason = 'provisioning topics and schemas';
      await provisionUntilReady(config, kafka, codec, logger, { stopping: () => stopping, onFailure: (why) => (reason = why) });
    }
    reason = 'starting';
    const service = await spec.start(ctx);
    check ??= () => ({ ready: true });
    return { config, logger, metrics, http, service, stop };
  } catch (err) {
    // A start that fails must not leave a listening port behind (tests start services in-process).
    await stop();
    throw err;
  }
}
