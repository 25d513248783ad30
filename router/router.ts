// createRouter: the blue/green router as one handle — an HTTP server (a raw-socket fast path for predictions,
// node:http for connections it hands over: express for /admin, /health, /ready, /metrics, and any prediction
// request the fast path does not take) and the in-process API the rollout controller drives directly
// (setWeights, setUpstream, switch, getState, stats). One implementation (RouterControl), two faces.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import express from 'express';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../lib/log.js';
import type { Color } from '../infra/runtime.js';
import { createAdminApi } from './admin.js';
import { createRouterControl, type ChangeOptions } from './control.js';
import { NotFoundError, sendError, sendJson } from './errors.js';
import { createFastPath, type FastPath } from './fast-path.js';
import { isProxiedRoute } from './http1.js';
import { registerRouterMetrics } from './metrics.js';
import { createProxy } from './proxy.js';
import type { RouterStateStore, RouterStateView, Upstream, Weights } from './state.js';
import type { StatsSnapshot } from './stats.js';

/** Default request-body limit, equal to the model server's default GSG_BODY_LIMIT_BYTES. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
/** Idle client connections close after this long (above common client pools' 60 s). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** A request head must be complete this long after its first byte (node's default; requestTimeout 0 would turn it off). */
const HEADERS_TIMEOUT_MS = 60_000;

export interface RouterOptions {
  /** Where the state is restored from and persisted to. */
  state: RouterStateStore;
  logger: Logger;
  /** Bearer token for /admin; undefined = admin API on loopback only (a warning is logged). */
  adminToken?: string;
  /** JSON body limit of the admin API (default 64 KiB; the platform raises it for rollout requests carrying golden sets). */
  adminBodyLimitBytes?: number;
  bodyLimitBytes?: number;
  /** 504 after this long without a complete upstream response (default 30 s). */
  upstreamTimeoutMs?: number;
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
  /** Register the router's metrics here (e.g. the platform's registry); default: a new one with process metrics. */
  metricsRegistry?: Registry;
  /** How long close() waits for in-flight requests before cutting connections (default 10 s). */
  graceMs?: number;
}

export interface RouterHandle {
  /** Starts serving; resolves with the base URL (port 0 picks a free port). */
  listen(port: number, host?: string): Promise<string>;
  /** /ready turns 503, the listener stops, in-flight requests finish (up to graceMs), upstream connections close. */
  close(): Promise<void>;
  getState(): RouterStateView;
  setWeights(weights: Weights, opts?: ChangeOptions): Promise<RouterStateView>;
  setUpstream(color: Color, upstream: Upstream | null, opts?: ChangeOptions): Promise<RouterStateView>;
  switch(opts?: ChangeOptions): Promise<RouterStateView>;
  /** Cumulative per-color counters; the rollout analysis diffs two to judge a window (infra/rollout/analysis.ts). */
  stats(): StatsSnapshot;
  /** At least one color with weight > 0 is ready. */
  isReady(): boolean;
  /** The express app (mount more routes before listen) and the /admin router (routes added here share its auth). */
  readonly app: express.Express;
  readonly admin: express.Router;
  readonly metrics: Registry;
}

export async function createRouter(opts: RouterOptions): Promise<RouterHandle> {
  const log = opts.logger;
  const control = await createRouterControl({
    store: opts.state,
    logger: log,
    probeIntervalMs: opts.probeIntervalMs,
    probeTimeoutMs: opts.probeTimeoutMs,
  });
  const bodyLimitBytes = opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const proxy = createProxy({
    control,
    logger: log,
    bodyLimitBytes,
    upstreamTimeoutMs: opts.upstreamTimeoutMs ?? 30_000,
  });
  let metrics = opts.metricsRegistry;
  if (!metrics) {
    metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
  }
  registerRouterMetrics(metrics, control);
  const registry = metrics;

  let draining = false;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/health', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/ready', (_req, res) => {
    const view = control.view();
    if (!draining && control.isReady()) return void res.json({ status: 'ready', blue: view.blue, green: view.green });
    sendJson(res, 503, { detail: draining ? 'router is shutting down' : 'no color with weight > 0 is ready', blue: view.blue, green: view.green });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', registry.contentType);
    res.end(await registry.metrics());
  });
  const admin = createAdminApi(control, { adminToken: opts.adminToken, bodyLimitBytes: opts.adminBodyLimitBytes });
  app.use('/admin', admin);
  if (opts.adminToken === undefined) {
    log.warn({ event: 'router.admin_loopback_only' }, 'no GSG_ADMIN_TOKEN: the admin API answers loopback clients only');
  }
  // Registered at listen() so routes added by the caller after createRouter() come first.
  const finishApp = () => {
    app.use((req, _res, next) => next(new NotFoundError(`not found: ${req.method} ${req.path}`)));
    app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      if ((err as { status?: number }).status === undefined && !(err instanceof NotFoundError)) {
        log.debug({ event: 'router.admin_error', err }, 'admin request failed');
      }
      sendError(res, err);
    });
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (isProxiedRoute(req.method, path)) return proxy.handle(req, res, true);
    if (req.method === 'GET' && (path === '/openapi.json' || path === '/docs' || path.startsWith('/docs/'))) {
      return proxy.handle(req, res, false);
    }
    app(req, res);
  };

  let server: Server | undefined;
  let fast: FastPath | undefined;
  let closing: Promise<void> | undefined;
  return {
    async listen(port, host = '0.0.0.0') {
      finishApp();
      const s = createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: 0 }, onRequest);
      // Every connection starts on the fast path; node:http's own connection handler (the 'connection' listener
      // http.Server installs) takes the ones the fast path hands over, with the bytes already read.
      const nodeConnection = s.listeners('connection') as Array<(socket: Socket) => void>;
      s.removeAllListeners('connection');
      fast = createFastPath({
        proxy,
        bodyLimitBytes,
        keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
        headersTimeoutMs: s.headersTimeout,
        handOff(socket, buffered) {
          for (const listener of nodeConnection) listener.call(s, socket);
          if (buffered.length > 0) socket.emit('data', buffered);
        },
      });
      const fastPath = fast;
      s.on('connection', (socket: Socket) => fastPath.accept(socket));
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      const addr = s.address() as AddressInfo;
      const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      const url = `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${addr.port}`;
      log.info({ event: 'router.listening', url, port: addr.port, host, state: opts.state.location, view: control.view() }, `router listening on ${url}`);
      return url;
    },
    close() {
      closing ??= (async () => {
        draining = true;
        const s = server;
        if (s) {
          const closed = new Promise<void>((resolve) => s.close(() => resolve()));
          s.closeIdleConnections();
          fast?.drain();
          const grace = setTimeout(() => {
            s.closeAllConnections();
            fast?.destroyAll();
          }, opts.graceMs ?? 10_000);
          grace.unref();
          await closed;
          clearTimeout(grace);
        }
        proxy.close();
        control.close();
        log.info({ event: 'router.closed' }, 'router closed');
      })();
      return closing;
    },
    getState: () => control.view(),
    setWeights: (w, o) => control.setWeights(w, o),
    setUpstream: (c, u, o) => control.setUpstream(c, u, o),
    switch: (o) => control.switch(o),
    stats: () => control.stats.snapshot(),
    isReady: () => control.isReady(),
    app,
    admin,
    metrics: registry,
  };
}
