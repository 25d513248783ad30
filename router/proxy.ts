// The proxy core: one exchange per proxied request (POST /predict, POST /predict/explain, GET /model/info, and
// the docs pages). Picks a color, sends the request through that color's UpstreamPool with a minimal header set,
// and answers with the upstream's complete response (status, body, a fixed set of headers) plus x-served-by /
// x-model-version / x-request-id. A request that fails to connect or is reset before any response byte is
// retried once on the other color; after that 502, past the deadline 504, with no ready color 503. Front ends
// (the raw fast path in fast-path.ts, node:http for everything else) parse the request and write the answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../lib/log.js';
import { requestIdFrom } from '../lib/request-id.js';
import { otherColor, type Color } from '../infra/runtime.js';
import type { RouterControl, Target } from './control.js';
import { BadGatewayError, BadRequestError, GatewayTimeoutError, NoReadyUpstreamError, PayloadTooLargeError, errorAnswer } from './errors.js';
import { FORWARDED_REQUEST_HEADERS, type UpstreamResponse } from './http1.js';
import type { PoolRequest } from './upstream-pool.js';

export interface ProxyOptions {
  control: RouterControl;
  logger: Logger;
  /** Largest request body accepted (413 above it); keep it equal to the model server's GSG_BODY_LIMIT_BYTES. */
  bodyLimitBytes: number;
  /** A request without a complete upstream response after this long is answered 504. */
  upstreamTimeoutMs: number;
}

/** A request as the front end read it. */
export interface ProxyRequest {
  readonly method: 'GET' | 'POST';
  /** Path and query, as sent. */
  readonly target: string;
  /** x-request-id as sent (checked and replaced here when unusable). */
  readonly requestId: string | undefined;
  /** x-gsg-color as sent. */
  readonly pin: string | undefined;
  readonly session: string | undefined;
  /** Forwarded request headers as `name: value\r\n` lines. */
  readonly forwarded: string;
  readonly body: Buffer;
  /** false for pass-through pages (docs) that should not count as traffic. */
  readonly record: boolean;
}

/** Writes the answer to the client: status, flat headers (content-length included), body. Called once. */
export type Reply = (status: number, headers: string[], body: Buffer) => void;

/** A started exchange; cancel() when the client has gone (its upstream answer is then discarded). */
export interface ExchangeHandle {
  cancel(): void;
}

export interface Proxy {
  start(req: ProxyRequest, reply: Reply): ExchangeHandle;
  /** Answers a request the front end refuses before it has a body (413), counted like any router answer. */
  refuse(requestId: string | undefined, err: Error, reply: Reply, record: boolean): void;
  /** The node:http front end: reads the body (with the limit), then starts the exchange. */
  handle(req: IncomingMessage, res: ServerResponse, record: boolean): void;
  close(): void;
}

const EMPTY = Buffer.alloc(0);
/**
 * Predictions up to this size may be pipelined (written with others, answered in order): a few texts, answered in
 * well under a millisecond, so nothing waits long behind them. Larger batches, explanations and /model/info each
 * get a connection to themselves.
 */
const PIPELINED_BODY_BYTES = 4096;
/** The exchange a node:http client connection has in flight (HTTP/1.1: one at a time per connection). */
const CURRENT = Symbol('gsg.exchange');


export function createProxy(opts: ProxyOptions): Proxy {
  const { control, logger: log, bodyLimitBytes: limit, upstreamTimeoutMs } = opts;
  const { split, health, stats, targets } = control;
  const noUpstream = stats.entry('none', null);
  // The exchanges waiting for an upstream, as an intrusive list (not a Set: a long-lived hash table keyed by
  // short-lived objects makes V8 promote them to the old generation, and GC becomes a large share of the router's CPU).
  let inflight: Exchange | null = null;
  const link = (ex: Exchange) => {
    ex.next = inflight;
    if (inflight) inflight.prev = ex;
    inflight = ex;
  };
  const unlink = (ex: Exchange) => {
    if (ex.prev) ex.prev.next = ex.next;
    else if (inflight === ex) inflight = ex.next;
    if (ex.next) ex.next.prev = ex.prev;
    ex.prev = ex.next = null;
  };

  // One sweeper instead of a timer per request: requests past their deadline get 504 and their connection closes.
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (let ex = inflight; ex; ) {
      const next = ex.next;
      if (now > ex.deadline) {
        if (ex.target) ex.target.pool.cancel(ex, true);
        ex.timedOut();
      }
      ex = next;
    }
  }, Math.max(10, Math.min(250, upstreamTimeoutMs / 4)));
  sweeper.unref();

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

  /** One proxied request; it is also the PoolRequest its upstream attempts are sent as. */
  class Exchange implements PoolRequest, ExchangeHandle {
    readonly start = performance.now();
    readonly requestId: string;
    pinned: Color | undefined;
    bytes: Buffer = EMPTY;
    deadline = Infinity;
    attempt = 0;
    target: Target | undefined;
    done = false;
    prev: Exchange | null = null;
    next: Exchange | null = null;
    /** The pool's slot for this request (see PoolRequest). */
    pooled: unknown = undefined;
    requeued = false;
    readonly pipelinable: boolean;

    constructor(
      readonly req: ProxyRequest,
      readonly reply: Reply,
    ) {
      this.requestId = requestIdFrom(req.requestId);
      const { method, target, body } = req;
      this.pipelinable = method === 'POST' && body.length <= PIPELINED_BODY_BYTES && (target === '/predict' || target.startsWith('/predict?'));
    }

    run(): void {
      const { pin, session } = this.req;
      let color: Color | undefined;
      if (pin !== undefined) {
        if (pin !== 'blue' && pin !== 'green') return this.fail(new BadRequestError(`x-gsg-color: must be "blue" or "green", got "${pin.slice(0, 40)}"`));
        color = this.pinned = pin;
        if (!targets[color] || !health.ready[color]) {
          return this.fail(new NoReadyUpstreamError(`x-gsg-color: ${color} is not ready${targets[color] ? '' : ' (no upstream)'}`, { color }));
        }
      } else {
        color = split.pick(health.ready, session !== undefined && session !== '' ? session : undefined);
        if (!color) return this.fail(new NoReadyUpstreamError(`no ready upstream (${describeColors(control)})`));
      }
      this.deadline = this.start + upstreamTimeoutMs;
      link(this);
      this.send(color);
    }

    send(color: Color): void {
      const target = targets[color]!;
      this.target = target;
      const { method, target: path, forwarded, body } = this.req;
      const length = method === 'POST' || body.length > 0 ? `content-length: ${body.length}\r\n` : '';
      const head = `${method} ${path} HTTP/1.1\r\n${target.hostHeader}x-request-id: ${this.requestId}\r\n${forwarded}${length}\r\n`;
      const bytes = Buffer.allocUnsafe(head.length + body.length);
      bytes.write(head, 0, 'latin1');
      body.copy(bytes, head.length);
      this.bytes = bytes;
      target.pool.send(this);
    }

    onResponse(res: UpstreamResponse): void {
      if (this.done) return;
      const target = this.target!;
      const headers = res.headers;
      headers.push('content-length', String(res.body.length), 'x-served-by', target.color, 'x-model-version', target.version, 'x-request-id', this.requestId);
      this.finish(target.counts, res.status, true);
      this.reply(res.status, headers, res.body);
    }

    onError(err: Error & { code?: string }, responded: boolean): void {
      if (this.done) return;
      const target = this.target!;
      const code = err.code ?? err.name;
      if (responded) {
        // The upstream died mid-response: not retried (it answered), but nothing reached the client yet either.
        log.warn({ event: 'router.upstream_error', request_id: this.requestId, color: target.color, error: code }, 'upstream failed mid-response');
        return this.fail(new BadGatewayError(`${target.color} (${target.version}) broke off its response: ${code}`, { color: target.color }));
      }
      if (code === 'ECONNREFUSED') health.markDown(target.color, target.url, 'connection refused');
      if (this.attempt === 0) {
        const retryColor = pickRetry(this, target, code);
        if (retryColor) {
          stats.retry(target.color);
          log.warn({ event: 'router.retry', request_id: this.requestId, from: target.color, to: retryColor, error: code }, 'retrying');
          this.attempt = 1;
          return this.send(retryColor);
        }
      }
      log.warn({ event: 'router.upstream_error', request_id: this.requestId, color: target.color, error: code }, 'upstream failed');
      this.fail(new BadGatewayError(`${target.color} (${target.version}) failed before answering: ${code}`, { color: target.color, error: code }));
    }

    timedOut(): void {
      if (this.done) return;
      const target = this.target!;
      log.warn({ event: 'router.upstream_timeout', request_id: this.requestId, color: target.color, timeout_ms: upstreamTimeoutMs }, 'upstream timeout');
      this.fail(new GatewayTimeoutError(`${target.color} (${target.version}) did not answer within ${upstreamTimeoutMs} ms`, { color: target.color }));
    }

    cancel(): void {
      if (this.done) return;
      this.done = true;
      unlink(this);
      this.target?.pool.cancel(this, false);
    }

    /** The router answers itself (4xx for the request, 5xx for upstream failures). */
    fail(err: Error): void {
      const target = this.target;
      const { status, headers, body } = errorReply(err, this.requestId);
      if (target) headers.push('x-served-by', target.color);
      this.finish(target ? target.counts : noUpstream, status, target !== undefined);
      this.reply(status, headers, body);
    }

    finish(entry: Target['counts'], status: number, withLatency: boolean): void {
      this.done = true;
      this.bytes = EMPTY;
      unlink(this);
      if (this.req.record) stats.record(entry, status, withLatency ? (performance.now() - this.start) / 1000 : undefined);
    }
  }

  const start = (req: ProxyRequest, reply: Reply): ExchangeHandle => {
    const ex = new Exchange(req, reply);
    ex.run();
    return ex;
  };

  /**
   * A node:http client that disconnects mid-request stops its exchange. One 'close' listener per connection (not
   * per request): it cancels the connection's latest exchange.
   */
  const watchClient = (req: IncomingMessage, ex: ExchangeHandle) => {
    const socket = req.socket as Socket & { [CURRENT]?: ExchangeHandle };
    if (!(CURRENT in socket)) socket.once('close', () => socket[CURRENT]?.cancel());
    socket[CURRENT] = ex;
  };

  const refuse = (requestId: string | undefined, err: Error, reply: Reply, record: boolean) => {
    const { status, headers, body } = errorReply(err, requestIdFrom(requestId));
    if (record) stats.record(noUpstream, status);
    reply(status, headers, body);
  };

  return {
    start,
    refuse,
    handle(req, res, record) {
      const reply: Reply = (status, headers, body) => {
        if (res.headersSent || res.destroyed) return;
        res.sendDate = false; // the upstream's Date passes through; the router's own answers carry one
        try {
          res.writeHead(status, headers);
          res.end(body);
        } catch (err) {
          // node:http refuses a header it considers invalid: the client gets a closed connection, the router lives on.
          log.warn({ event: 'router.reply_failed', error: (err as Error & { code?: string }).code ?? String(err) }, 'could not write the answer');
          res.destroy();
        }
      };
      const first = (name: string): string | undefined => {
        const v = req.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      let forwarded = '';
      for (const name of FORWARDED_REQUEST_HEADERS) {
        const v = first(name);
        if (v !== undefined) forwarded += `${name}: ${v}\r\n`;
      }
      const proxied = (body: Buffer) => ({
        method: req.method as 'GET' | 'POST',
        target: req.url ?? '/',
        requestId: first('x-request-id'),
        pin: first('x-gsg-color'),
        session: first('x-gsg-session'),
        forwarded,
        body,
        record,
      });
      // The rest of an oversized body is not read: the connection closes after the answer.
      const tooLarge = () => refuse(first('x-request-id'), new PayloadTooLargeError(limit), (status, headers, body) => reply(status, [...headers, 'connection', 'close'], body), record);
      const declared = req.headers['content-length'];
      if (declared === undefined && req.headers['transfer-encoding'] === undefined) return void watchClient(req, start(proxied(EMPTY), reply));
      if (declared !== undefined && Number(declared) > limit) return tooLarge();
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          refused = true;
          req.removeListener('data', onData);
          tooLarge();
          return;
        }
        chunks.push(chunk);
      };
      req.on('data', onData);
      req.on('end', () => {
        if (refused) return;
        watchClient(req, start(proxied(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)), reply));
      });
    },
    close() {
      clearInterval(sweeper);
    },
  };
}

/** A JSON error answer of the router's own, with its headers (Date included, as node:http would add). */
function errorReply(err: Error, requestId: string): { status: number; headers: string[]; body: Buffer } {
  const { status, body } = errorAnswer(err);
  const bytes = Buffer.from(JSON.stringify(body));
  return { status, headers: ['content-type', 'application/json', 'content-length', String(bytes.length), 'date', new Date().toUTCString(), 'x-request-id', requestId], body: bytes };
}

function describeColors(control: RouterControl): string {
  const v = control.view();
  return (['blue', 'green'] as const).map((c) => `${c}: weight ${v[c].weight}, ${v[c].url ? (v[c].ready ? 'ready' : 'not ready') : 'no upstream'}`).join('; ');
}
