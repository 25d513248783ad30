// The model server: a plain node:http listener that answers the hot path (POST /predict, /predict/explain) and
// the probes (/health, /ready) itself and hands every other request to the lazily loaded express app. Owns the
// lifecycle: listen at once -> load, verify and warm up the model -> ready -> drain on close().
import { createServer, STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, GsgError } from '../../../lib/errors.js';
import { createLogger, type Logger } from '../../../lib/log.js';
import { requestIdOf } from '../../../lib/request-id.js';
import { MODEL_FILE, ModelLoadError } from '../../../models/artifact.js';
import { ExplainRequest, PredictRequest, type ModelInfoResponse } from './api-schemas.js';
import { createApp, type AppContext } from './app.js';
import type { ServerConfig } from './config.js';
import { InjectedFaultError, MethodNotAllowedError, NotReadyError, OverloadedError, toHttpError } from './errors.js';
import { createServerMetrics, NO_VERSION, type RouteLabel } from './metrics.js';
import { loadOnnxServingModel } from './onnx-serving-model.js';
import { createPredictor, type PredictOutcome, type Predictor } from './predictor.js';
import { checkJsonContentType, parseJson, readBody, validateTextsRequest } from './request-body.js';
import type { ServingModel } from './serving-model.js';

export type ServerState = 'loading' | 'ready' | 'failed' | 'draining' | 'closed';

export interface ServerDeps {
  logger?: Logger;
  /** Loads and verifies a model directory (default: ONNX Runtime on the bundled artifact format). */
  loadModel?: (dir: string) => Promise<ServingModel>;
  /** Random source of the error-rate fault (tests pass a deterministic one). */
  random?: () => number;
}

export interface ReadyInfo {
  modelName: string;
  version: string;
  sha256: string;
  loadSeconds: number;
  startToReadySeconds: number;
}

export interface ServerHandle {
  /** http://host:port, with a wildcard host replaced by loopback. */
  readonly url: string;
  readonly port: number;
  /** Resolves once the model answered its warm-up; rejects with the load error (the listener is closed by then). */
  readonly ready: Promise<ReadyInfo>;
  state(): ServerState;
  /** Drains: /ready 503 at once, stop accepting, answer in-flight requests, close; forced after graceMs. */
  close(): Promise<{ drained: boolean }>;
}

const WARM_UP_TEXT = 'El gimnasio está limpio y los monitores son muy amables, pero las máquinas están viejas.';
/** Longer than any keep-alive idle timeout a proxy in front uses (the router's agent), so the server never closes a socket the proxy is about to reuse. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

function urlOf(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '') return `http://127.0.0.1:${port}`;
  if (host === '::') return `http://[::1]:${port}`;
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

/** Answers a malformed HTTP request (parse error, header overflow) with JSON instead of Node's bare status line. */
function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify({ detail: `Malformed HTTP request (${err.code ?? 'parse error'})` });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

export async function startServer(config: ServerConfig, deps: ServerDeps = {}): Promise<ServerHandle> {
  const logger = deps.logger ?? createLogger({ name: 'model-server', level: config.logLevel });
  const metrics = createServerMetrics();
  const random = deps.random ?? Math.random;
  const faults = config.faults;
  const faultsOn = faults.errorRate > 0 || faults.latencyMs > 0 || faults.flip;
  const debug = logger.isLevelEnabled('debug');

  let state: ServerState = 'loading';
  let model: ServingModel | undefined;
  let predictor: Predictor | undefined;
  let modelVersion = NO_VERSION;
  let modelInfoJson: string | undefined;
  let readyJson = '';
  let inFlight = 0;
  /** Request bytes reserved by predictions being read or answered (back-pressure budget). */
  let inflightBytes = 0;

  const notReady = () => new NotReadyError(state === 'failed' ? 'failed' : state === 'loading' ? 'loading' : 'closed');

  // ---- responses, logs and metrics -------------------------------------------------------------------------
  const send = (res: ServerResponse, status: number, body: string, rid: string, extra?: Record<string, string>) => {
    const headers: OutgoingHttpHeaders = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': rid };
    if (extra) Object.assign(headers, extra);
    if (state === 'draining') headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(body);
  };

  const done = (req: IncomingMessage, rid: string, t0: number, route: RouteLabel, status: number, inputCount: number) => {
    inFlight--;
    const seconds = (performance.now() - t0) / 1000;
    metrics.observeRequest(route, status, seconds);
    const line = {
      event: 'serving.request',
      request_id: rid,
      method: req.method,
      route,
      ...(route === 'other' ? { path: (req.url ?? '').slice(0, 200) } : {}),
      status,
      latency_ms: Math.round(seconds * 1e6) / 1e3,
      input_count: inputCount,
      model_version: modelVersion,
    };
    if (route === '/health' || route === '/ready' || route === '/metrics') logger.debug(line);
    else if (status >= 500) logger.warn(line);
    else logger.info(line);
  };

  const logInternalError = (err: unknown, rid: string | undefined, route: string) => {
    logger.error({ event: 'serving.internal_error', request_id: rid, route, err });
  };

  const sendError = (res: ServerResponse, err: unknown, rid: string, route: string): number => {
    const mapped = toHttpError(err);
    if (mapped.internal) logInternalError(err, rid, route);
    // A refused body is not read: close the connection instead of draining megabytes from it.
    send(res, mapped.status, mapped.body, rid, mapped.status === 413 ? { ...mapped.headers, connection: 'close' } : mapped.headers);
    return mapped.status;
  };

  // ---- the hot path ------------------------------------------------------------------------------------------
  const handlePrediction = async (req: IncomingMessage, res: ServerResponse, rid: string, t0: number, explain: boolean) => {
    const route: RouteLabel = explain ? '/predict/explain' : '/predict';
    let status = 200;
    let inputCount = 0;
    let reserved = 0;
    try {
      const p = predictor;
      if (!p) throw notReady();
      checkJsonContentType(req.headers['content-type']);
      // Back-pressure: reserve the declared body size (the limit when undeclared) against the in-flight budget.
      const declared = Number(req.headers['content-length'] ?? config.bodyLimitBytes);
      reserved = Number.isFinite(declared) && declared >= 0 ? Math.min(declared, config.bodyLimitBytes) : config.bodyLimitBytes;
      if (inflightBytes + reserved > config.maxInflightBytes && inflightBytes > 0) {
        const busy = inflightBytes;
        reserved = 0;
        throw new OverloadedError(busy, config.maxInflightBytes);
      }
      inflightBytes += reserved;
      const raw = parseJson(await readBody(req, config.bodyLimitBytes));
      let outcome: Promise<PredictOutcome>;
      if (explain) {
        const body = validateTextsRequest(ExplainRequest, raw);
        inputCount = body.texts.length;
        if (faultsOn) await injectFaults();
        outcome = p.explain(body.texts, body.top_k);
      } else {
        const body = validateTextsRequest(PredictRequest, raw);
        inputCount = body.texts.length;
        if (faultsOn) await injectFaults();
        outcome = p.predict(body.texts);
      }
      const out = await outcome;
      metrics.countPredictions(out.negative, out.positive);
      metrics.observeBatch(inputCount);
      send(res, 200, out.body, rid);
    } catch (err) {
      status = sendError(res, err, rid, route);
    }
    inflightBytes -= reserved;
    done(req, rid, t0, route, status, inputCount);
  };

  const injectFaults = async () => {
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    if (faults.errorRate > 0 && random() < faults.errorRate) throw new InjectedFaultError();
  };

  // ---- everything else: express, imported on first use (or right after ready) -------------------------------
  const appContext: AppContext = {
    metrics,
    modelInfoJson: () => {
      if (modelInfoJson === undefined) throw notReady();
      return modelInfoJson;
    },
    modelIdentity: () => (model ? { modelName: model.metadata.model_name, modelVersion: model.metadata.version } : {}),
    logInternalError: (err, req, res) => logInternalError(err, String(res.getHeader('x-request-id') ?? ''), req.path),
  };
  let app: RequestListener | undefined;
  let appLoading: Promise<RequestListener> | undefined;
  const loadApp = () =>
    (appLoading ??= createApp(appContext).then((a) => {
      app = a as unknown as RequestListener;
      return app;
    }));

  const routeLabelOf = (path: string): RouteLabel =>
    path === '/model/info' || path === '/metrics' || path === '/openapi.json' || path === '/docs' ? path : path.startsWith('/docs/') ? '/docs' : 'other';

  const toApp = (req: IncomingMessage, res: ServerResponse, rid: string, t0: number, path: string) => {
    res.setHeader('x-request-id', rid);
    if (state === 'draining') res.setHeader('connection', 'close');
    const route = routeLabelOf(path);
    res.once('close', () => done(req, rid, t0, route, res.statusCode, 0));
    if (app) return app(req, res);
    loadApp().then(
      (a) => a(req, res),
      (err) => sendError(res, err, rid, route),
    );
  };

  const probe = (req: IncomingMessage, res: ServerResponse, rid: string, t0: number, route: '/health' | '/ready') => {
    let status: number;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      status = sendError(res, new MethodNotAllowedError(req.method ?? '?', route, 'GET, HEAD'), rid, route);
    } else if (route === '/health') {
      send(res, (status = 200), '{"status":"ok"}', rid);
    } else if (state === 'ready') {
      send(res, (status = 200), readyJson, rid);
    } else {
      const detail = state === 'draining' ? 'Server is shutting down' : notReady().message;
      send(res, (status = 503), JSON.stringify({ detail }), rid);
    }
    done(req, rid, t0, route, status, 0);
  };

  const handler: RequestListener = (req, res) => {
    const t0 = performance.now();
    inFlight++;
    const rid = requestIdOf(req);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (debug) logger.debug({ event: 'serving.request_received', request_id: rid, method: req.method, path });
    switch (path) {
      case '/predict':
      case '/predict/explain':
        if (req.method === 'POST') return void handlePrediction(req, res, rid, t0, path === '/predict/explain');
        done(req, rid, t0, path, sendError(res, new MethodNotAllowedError(req.method ?? '?', path, 'POST'), rid, path), 0);
        return;
      case '/health':
      case '/ready':
        return probe(req, res, rid, t0, path);
      default:
        return toApp(req, res, rid, t0, path);
    }
  };

  // ---- listen at once, then load --------------------------------------------------------------------------
  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, headersTimeout: KEEP_ALIVE_TIMEOUT_MS + 1000, requestTimeout: 120_000, noDelay: true }, handler);
  server.on('clientError', onClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = urlOf(config.host, port);
  logger.info({ event: 'serving.start', url, model_dir: config.modelDir, grace_ms: config.graceMs, body_limit_bytes: config.bodyLimitBytes, batch_max_texts: config.batchMaxTexts });
  if (faultsOn) {
    logger.warn({ event: 'serving.fault_injection_enabled', faults: { error_rate: faults.errorRate, latency_ms: faults.latencyMs, flip: faults.flip }, msg: 'FAULT INJECTION IS ON: this server answers wrong or slow on purpose' });
  }

  let closing: Promise<{ drained: boolean }> | undefined;
  const closeListener = () => new Promise<void>((resolve) => server.close(() => resolve()));

  const load = async (): Promise<ReadyInfo> => {
    const t = performance.now();
    const loadModel = deps.loadModel ?? loadOnnxServingModel;
    const m = await loadModel(config.modelDir);
    const p = createPredictor(m, { batchMaxTexts: config.batchMaxTexts, faults });
    await warmUp(m, p, config.modelDir);
    if (state !== 'loading') {
      await m.close();
      throw new GsgError('server closed before the model was ready', { code: 'closed' });
    }
    const meta = m.metadata;
    const sha256 = m.sha256;
    model = m;
    predictor = p;
    modelVersion = meta.version;
    metrics.setModel({ modelName: meta.model_name, version: meta.version, sha256 });
    const info: ModelInfoResponse = {
      model_name: meta.model_name,
      version: meta.version,
      threshold: meta.threshold,
      target_class: meta.target_class,
      label_mapping: meta.label_mapping,
      sha256,
      created_at: meta.created_at,
      metrics: { val: meta.metrics.val },
      ...(faultsOn ? { faults: { error_rate: faults.errorRate, latency_ms: faults.latencyMs, flip: faults.flip } } : {}),
    };
    modelInfoJson = JSON.stringify(info);
    readyJson = JSON.stringify({ status: 'ready', model_loaded: true, model_version: meta.version });
    const loadSeconds = (performance.now() - t) / 1000;
    const startToReadySeconds = (Date.now() - performance.timeOrigin) / 1000;
    metrics.setModelLoadSeconds(loadSeconds);
    metrics.setStartToReadySeconds(startToReadySeconds);
    state = 'ready';
    logger.info({
      event: 'serving.ready',
      model_name: meta.model_name,
      model_version: meta.version,
      sha256,
      load_ms: Math.round(loadSeconds * 1000),
      start_to_ready_ms: Math.round(startToReadySeconds * 1000),
    });
    // Off the start path: bring express in, so the first /metrics scrape does not wait for it. (The explain graph
    // is opened by the first /predict/explain: it costs ~30 MB that a server only predicting never needs.)
    setImmediate(() => void loadApp().catch((err) => logInternalError(err, undefined, 'app')));
    return { modelName: meta.model_name, version: meta.version, sha256, loadSeconds, startToReadySeconds };
  };
  const ready = load().catch(async (err: unknown) => {
    if (state === 'loading') {
      state = 'failed';
      logger.error({ event: 'serving.load_failed', model_dir: config.modelDir, file: err instanceof GsgError ? err.context.file : undefined, err });
      await closeListener();
    }
    throw err;
  });
  // Callers await `ready`; this only keeps an unobserved load failure from becoming an unhandled rejection.
  ready.catch(() => undefined);

  const close = () =>
    (closing ??= (async () => {
      const t0 = performance.now();
      const from = state;
      state = 'draining';
      logger.info({ event: 'serving.shutdown', phase: 'draining', from, in_flight: inFlight, grace_ms: config.graceMs });
      const closed = closeListener();
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<true>((resolve) => (timer = setTimeout(() => resolve(true), config.graceMs)));
      const forced = await Promise.race([closed.then(() => false as const), graceOver]);
      clearTimeout(timer);
      const unanswered = inFlight;
      if (forced) {
        server.closeAllConnections();
        await closed;
      }
      state = 'closed';
      predictor = undefined;
      await model?.close().catch(() => undefined);
      logger.info({ event: 'serving.shutdown', phase: 'closed', drained: !forced, unanswered: forced ? unanswered : 0, duration_ms: Math.round(performance.now() - t0) });
      return { drained: !forced };
    })());

  return { url, port, ready, state: () => state, close };
}

/**
 * Answers one prediction before the server says ready, so the first client request pays no lazy initialisation
 * and a model that loads but cannot predict never becomes ready. (The explain graph opens on first use.)
 */
async function warmUp(model: ServingModel, predictor: Predictor, dir: string): Promise<void> {
  const file = `${dir.replace(/\/+$/, '')}/${MODEL_FILE}`;
  try {
    const probs = await model.predictTokens([model.tokenize(WARM_UP_TEXT)]);
    const [pn, pp] = [probs[0], probs[1]];
    if (probs.length !== 2 || !(pn! >= 0 && pn! <= 1 && pp! >= 0 && pp! <= 1)) {
      throw new Error(`probabilities output is not [1, 2] values in [0, 1] (got ${Array.from(probs).slice(0, 4).join(', ')})`);
    }
    await predictor.predict([WARM_UP_TEXT]);
  } catch (err) {
    if (err instanceof ModelLoadError) throw err;
    throw new ModelLoadError(`${file}: warm-up prediction failed: ${errorMessage(err)}`, { file });
  }
}
