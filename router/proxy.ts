// The hot path: POST /predict, POST /predict/explain, GET /model/info (and the docs pages) on a raw node:http
// handler. Buffers the request body (with a limit, so it can be retried), picks a color, forwards through the
// color's keep-alive undici pool with a minimal header set, and writes the upstream response through with
// x-served-by / x-model-version / x-request-id. A request that fails to connect or is reset before any response
// byte is retried once on the other color; after that 502, past the deadline 504, with no ready color 503.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../lib/log.js';
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
  /** Requests waiting for an upstream right now. */
  inFlight(): number;
  close(): void;
}

/** Request headers passed to the model server; everything else (cookies, auth, hop-by-hop) stays at the router. */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'content-encoding', 'accept', 'accept-encoding', 'user-agent'] as const;
/** Response headers not copied from the upstream: hop-by-hop ones, and the ones the router sets itself. */
const DROPPED_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'trailer', 'x-served-by', 'x-model-version', 'x-request-id']);
const EMPTY = Buffer.alloc(0);
/** Same rule as the model server: a client id is kept when it is 1-128 visible ASCII characters. */
const REQUEST_ID_RE = /^[\x21-\x7e]{1,128}$/;

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
    if (ex.responded) {
      // The upstream died mid-response: nothing to retry, the client sees a truncated response.
      ex.res.destroy();
      return finish(ex, target.counts, 502, true);
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
    const res = ex.res;
    let status = 502;
    let resume: () => void = () => undefined;
    // undici's handler callbacks (its native dispatch path in v7): no streams or events per request.
    target.pool.dispatch(
      { path: ex.req.url ?? '/', method: ex.req.method as 'GET' | 'POST', headers, body: ex.body.length > 0 || ex.req.method === 'POST' ? ex.body : null, idempotent: true, blocking: false },
      {
        onConnect(abort) {
          if (ex.done) return abort(new Error('client gone'));
          ex.abort = abort;
        },
        onHeaders(statusCode, raw, resumeUpstream) {
          if (statusCode < 200) return true; // 1xx: wait for the real response
          ex.responded = true;
          status = statusCode;
          resume = resumeUpstream;
          const out: string[] = [];
          for (let i = 0; i < raw.length; i += 2) {
            const name = raw[i]!.toString('latin1');
            if (!DROPPED_RESPONSE_HEADERS.has(name.toLowerCase())) out.push(name, raw[i + 1]!.toString('latin1'));
          }
          out.push('x-served-by', target.color, 'x-model-version', target.version, 'x-request-id', ex.requestId);
          res.sendDate = false; // the upstream's Date passes through
          res.writeHead(statusCode, out);
          return true;
        },
        onData(chunk) {
          if (res.write(chunk)) return true;
          // A slow client: undici pauses until the client's 'drain'.
          res.once('drain', resume);
          return false;
        },
        onComplete() {
          res.end();
          finish(ex, target.counts, status, true);
        },
        onError(err) {
          onError(ex, target, err as Error & { code?: string });
        },
      },
    );
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
      const given = req.headers['x-request-id'];
      const ex: Exchange = {
        req,
        res,
        requestId: typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID(),
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
      res.on('close', () => {
        if (ex.done || res.writableFinished) return;
        // The client went away: stop the upstream request and forget the exchange.
        ex.done = true;
        inflight.delete(ex);
        ex.abort?.(new Error('client gone'));
      });

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
    inFlight: () => inflight.size,
    close() {
      clearInterval(sweeper);
    },
  };
}

function describeColors(control: RouterControl): string {
  const v = control.view();
  return (['blue', 'green'] as const).map((c) => `${c}: weight ${v[c].weight}, ${v[c].url ? (v[c].ready ? 'ready' : 'not ready') : 'no upstream'}`).join('; ');
}
