// The hot path: POST /predict, POST /predict/explain, GET /model/info (and the docs pages) on a raw node:http
// handler. Buffers the request body (with a limit, so it can be retried), picks a color, forwards through the
// color's keep-alive undici pool with a minimal header set, and answers with the upstream's complete response
// (status, body, a fixed set of headers) plus x-served-by / x-model-version / x-request-id. A request that fails
// to connect or is reset before any response byte is retried once on the other color; after that 502, past the
// deadline 504, with no ready color 503.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../lib/log.js';
import { requestIdOf } from '../lib/request-id.js';
import { otherColor, type Color } from '../infra/runtime.js';
import type { RouterControl, Target } from './control.js';
import { BadGatewayError, BadRequestError, GatewayTimeoutError, NoReadyUpstreamError, PayloadTooLargeError, sendError } from './errors.js';
import type { CountEntry } from './stats.js';

export interface ProxyOptions {
  control: RouterControl;
  logger: Logger;
  /** Largest request body accepted (413 above it); keep it equal to the model server's GSG_BODY_LIMIT_BYTES. */
  bodyLimitBytes: number;
  /** A request without a complete upstream response after this long is answered 504. */
  upstreamTimeoutMs: number;
}

export interface Proxy {
  /** Proxies one request; `record` = false for pass-through pages (docs) that should not count as traffic. */
  handle(req: IncomingMessage, res: ServerResponse, record: boolean): void;
  close(): void;
}

/** Request headers passed to the model server; everything else (cookies, auth, hop-by-hop) stays at the router. */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'content-encoding', 'accept', 'accept-encoding', 'user-agent'] as const;
/**
 * Response headers copied from the upstream (what the model server sends that a client may use); hop-by-hop ones
 * and the router's own (x-served-by, x-model-version, x-request-id) are never copied.
 */
const COPIED_RESPONSE_HEADERS = new Set(['content-type', 'content-length', 'content-encoding', 'date', 'retry-after', 'allow', 'cache-control', 'etag', 'last-modified', 'vary', 'location']);
const EMPTY = Buffer.alloc(0);
/** The exchange a client connection has in flight (HTTP/1.1: one at a time per connection). */
const CURRENT = Symbol('gsg.exchange');

interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly pinned: Color | undefined;
  readonly record: boolean;
  readonly start: number;
  body: Buffer;
  deadline: number;
  attempt: number;
  target: Target | undefined;
  /** Aborts the current upstream attempt (from undici's onConnect). */
  abort: ((err: Error) => void) | undefined;
  responded: boolean;
  timedOut: boolean;
  done: boolean;
}

class UpstreamTimeout extends Error {}

export function createProxy(opts: ProxyOptions): Proxy {
  const { control, logger: log, bodyLimitBytes: limit, upstreamTimeoutMs } = opts;
  const { split, health, stats, targets } = control;
  const noUpstream = stats.entry('none', null);
  const inflight = new Set<Exchange>();

  // One sweeper instead of a timer per request: requests past their deadline are aborted (-> 504).
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const ex of inflight) {
      if (now > ex.deadline && !ex.timedOut) {
        ex.timedOut = true;
        const timeout = new UpstreamTimeout('upstream timeout');
        // Not on a connection yet (still connecting): answer now; onConnect aborts the attempt later.
        if (ex.abort) ex.abort(timeout);
        else if (ex.target) onError(ex, ex.target, timeout);
      }
    }
  }, Math.max(10, Math.min(250, upstreamTimeoutMs / 4)));
  sweeper.unref();

  const finish = (ex: Exchange, entry: CountEntry, status: number, withLatency: boolean) => {
    if (ex.done) return;
    ex.done = true;
    ex.body = EMPTY; // the client's socket keeps its last exchange until the next request: not its body
    inflight.delete(ex);
    if (ex.record) stats.record(entry, status, withLatency ? (performance.now() - ex.start) / 1000 : undefined);
  };

  /** The router answers itself (4xx for the request, 5xx for upstream failures). */
  const fail = (ex: Exchange, err: Error & { code?: string }, extraHeaders: Record<string, string> = {}) => {
    const headers: Record<string, string> = { 'x-request-id': ex.requestId, ...extraHeaders };
    const target = ex.target;
    if (target) headers['x-served-by'] = target.color;
    sendError(ex.res, err, headers);
    finish(ex, target ? target.counts : noUpstream, ex.res.statusCode, target !== undefined);
  };

  const onError = (ex: Exchange, target: Target, err: Error & { code?: string }) => {
    if (ex.done) return;
    if (ex.responded && !ex.timedOut) {
      // The upstream died mid-response: not retried (it answered), but nothing reached the client yet either.
      log.warn({ event: 'router.upstream_error', request_id: ex.requestId, color: target.color, error: err.code ?? err.name }, 'upstream failed mid-response');
      return fail(ex, new BadGatewayError(`${target.color} (${target.version}) broke off its response: ${err.code ?? err.name}`, { color: target.color }));
    }
    if (ex.timedOut) {
      log.warn({ event: 'router.upstream_timeout', request_id: ex.requestId, color: target.color, timeout_ms: upstreamTimeoutMs }, 'upstream timeout');
      return fail(ex, new GatewayTimeoutError(`${target.color} (${target.version}) did not answer within ${upstreamTimeoutMs} ms`, { color: target.color }));
    }
    const code = err.code ?? err.name;
    if (code === 'ECONNREFUSED') health.markDown(target.color, target.url, 'connection refused');
    if (ex.attempt === 0) {
      const retryColor = pickRetry(ex, target, code);
      if (retryColor) {
        stats.retry(target.color);
        log.warn({ event: 'router.retry', request_id: ex.requestId, from: target.color, to: retryColor, error: code }, 'retrying');
        ex.attempt = 1;
        return send(ex, retryColor);
      }
    }
    log.warn({ event: 'router.upstream_error', request_id: ex.requestId, color: target.color, error: code }, 'upstream failed');
    fail(ex, new BadGatewayError(`${target.color} (${target.version}) failed before answering: ${code}`, { color: target.color, error: code }));
  };

  /**
   * Where a request that failed before any response byte goes once: the other color when it may take traffic;
   * otherwise the same color again after a reset (a keep-alive socket the server was closing) if it is still ready.
   * A pinned request never moves to the other color.
   */
  const pickRetry = (ex: Exchange, target: Target, code: string): Color | undefined => {
    const other = otherColor(target.color);
    if (!ex.pinned && targets[other] && health.ready[other] && split.weight(other) > 0) return other;
    if (code !== 'ECONNREFUSED' && health.ready[target.color] && targets[target.color] === target) return target.color;
    return undefined;
  };

  const send = (ex: Exchange, color: Color) => {
    const target = targets[color]!;
    ex.target = target;
    ex.abort = undefined;
    const incoming = ex.req.headers;
    const headers: string[] = ['x-request-id', ex.requestId];
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const v = incoming[name];
      if (v !== undefined) headers.push(name, v);
    }
    target.pool.dispatch(
      { path: ex.req.url ?? '/', method: ex.req.method as 'GET' | 'POST', headers, body: ex.body.length > 0 || ex.req.method === 'POST' ? ex.body : null, idempotent: true, blocking: false },
      new UpstreamResponse(ex, target),
    );
  };

  /**
   * undici's handler callbacks (its native dispatch path in v7; no streams or events per request). The response is
   * collected and written to the client in one res.end() when complete, so an upstream that dies mid-body still
   * gets a clean 502 rather than a truncated answer.
   */
  class UpstreamResponse {
    status = 502;
    headers: string[] = [];
    chunks: Buffer[] = [];
    size = 0;
    constructor(
      readonly ex: Exchange,
      readonly target: Target,
    ) {}
    onConnect(abort: (err: Error) => void) {
      if (this.ex.done) return abort(new Error('client gone'));
      this.ex.abort = abort;
    }
    onHeaders(statusCode: number, raw: Buffer[]) {
      if (statusCode < 200) return true; // 1xx: wait for the real response
      this.ex.responded = true;
      this.status = statusCode;
      const out = this.headers;
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i]!.toString('latin1');
        if (COPIED_RESPONSE_HEADERS.has(name.toLowerCase())) out.push(name, raw[i + 1]!.toString('latin1'));
      }
      return true;
    }
    onData(chunk: Buffer) {
      this.chunks.push(chunk);
      this.size += chunk.length;
      return true;
    }
    onComplete() {
      const { ex, target } = this;
      if (ex.done) return;
      this.headers.push('x-served-by', target.color, 'x-model-version', target.version, 'x-request-id', ex.requestId);
      const res = ex.res;
      res.sendDate = false; // the upstream's Date passes through
      res.writeHead(this.status, this.headers);
      res.end(this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size));
      finish(ex, target.counts, this.status, true);
    }
    onError(err: Error) {
      onError(this.ex, this.target, err as Error & { code?: string });
    }
  }

  /**
   * A client that disconnects mid-request stops its upstream request. One 'close' listener per connection (not per
   * request): it aborts the connection's latest exchange (a pipelining client's earlier ones just finish unread).
   */
  const watchClient = (req: IncomingMessage, ex: Exchange) => {
    const socket = req.socket as Socket & { [CURRENT]?: Exchange };
    if (!(CURRENT in socket)) {
      socket.once('close', () => {
        const current = socket[CURRENT];
        if (!current || current.done) return;
        current.done = true;
        inflight.delete(current);
        current.abort?.(new Error('client gone'));
      });
    }
    socket[CURRENT] = ex;
  };

  const route = (ex: Exchange) => {
    if (ex.done) return;
    let color: Color | undefined;
    if (ex.pinned) {
      color = ex.pinned;
      if (!targets[color] || !health.ready[color]) {
        return fail(ex, new NoReadyUpstreamError(`x-gsg-color: ${color} is not ready${targets[color] ? '' : ' (no upstream)'}`, { color }));
      }
    } else {
      const session = ex.req.headers['x-gsg-session'];
      color = split.pick(health.ready, typeof session === 'string' && session !== '' ? session : undefined);
      if (!color) return fail(ex, new NoReadyUpstreamError(`no ready upstream (${describeColors(control)})`));
    }
    ex.deadline = performance.now() + upstreamTimeoutMs;
    inflight.add(ex);
    send(ex, color);
  };

  return {
    handle(req, res, record) {
      const start = performance.now();
      const ex: Exchange = {
        req,
        res,
        requestId: requestIdOf(req),
        pinned: undefined,
        record,
        start,
        body: EMPTY,
        deadline: Infinity,
        attempt: 0,
        target: undefined,
        abort: undefined,
        responded: false,
        timedOut: false,
        done: false,
      };
      watchClient(req, ex);

      const pin = req.headers['x-gsg-color'];
      if (pin !== undefined) {
        if (pin !== 'blue' && pin !== 'green') return fail(ex, new BadRequestError(`x-gsg-color: must be "blue" or "green", got "${String(pin).slice(0, 40)}"`));
        (ex as { pinned: Color }).pinned = pin;
      }

      const declared = req.headers['content-length'];
      if (declared === undefined && req.headers['transfer-encoding'] === undefined) return route(ex);
      if (declared !== undefined && Number(declared) > limit) return fail(ex, new PayloadTooLargeError(limit), { connection: 'close' });
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          req.removeListener('data', onData);
          fail(ex, new PayloadTooLargeError(limit), { connection: 'close' });
          return;
        }
        chunks.push(chunk);
      };
      req.on('data', onData);
      req.on('end', () => {
        if (ex.done) return;
        ex.body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        route(ex);
      });
    },
    close() {
      clearInterval(sweeper);
    },
  };
}

function describeColors(control: RouterControl): string {
  const v = control.view();
  return (['blue', 'green'] as const).map((c) => `${c}: weight ${v[c].weight}, ${v[c].url ? (v[c].ready ? 'ready' : 'not ready') : 'no upstream'}`).join('; ');
}
