// UpstreamPool: keep-alive HTTP/1.1 connections from the router to one model server, on raw sockets. Requests
// queued in one event-loop turn are written together: up to `pipeline` of them in one write on one idle
// connection (HTTP/1.1 pipelining; the model server answers them in order). On loopback the write syscall is most
// of a proxy's cost, so fewer, larger writes are what make the router cheap. A connection that fails or closes
// fails the requests it still owes; each says whether any byte of its response had arrived (the proxy retries
// only those that had none).
import { connect, type Socket } from 'node:net';
import { ResponseParser, type UpstreamResponse } from './http1.js';

/** One request for the pool: its complete bytes and where the outcome goes (exactly one call). */
export interface PoolRequest {
  readonly bytes: Buffer;
  /**
   * May be written in one batch with others and wait behind them for its answer: only requests the upstream answers
   * quickly (the proxy says so for small single predictions), so no request waits behind a slow one.
   */
  readonly pipelinable: boolean;
  onResponse(res: UpstreamResponse): void;
  /** `responded`: part of the response had arrived when the connection failed. */
  onError(err: Error & { code?: string }, responded: boolean): void;
  /**
   * Owned by the pool: the connection the request was written on. A field on the request rather than a Map in the
   * pool, because a long-lived hash table keyed by short-lived objects gets them promoted to V8's old generation.
   */
  pooled: unknown;
  /** Owned by the pool: the request was already put back in the queue once after its connection closed. */
  requeued: boolean;
}

export interface PoolOptions {
  /** Connections at most; requests beyond them wait in order (default 256). */
  maxConnections?: number;
  /** Requests written together on one connection at most (default 4: as cheap as 8 in the bench, half the wait behind a slow one; 1 = no pipelining). */
  pipeline?: number;
  /** An idle connection closes after this long (default 30 s, under the model server's 65 s keep-alive). */
  idleTimeoutMs?: number;
  /** A connection not established after this long fails its requests (default 5 s; they may be retried elsewhere). */
  connectTimeoutMs?: number;
}

export interface UpstreamPool {
  readonly origin: string;
  send(req: PoolRequest): void;
  /**
   * Stops a request: a queued one is dropped; one already written is answered into the void, or with `hard`
   * (a hung upstream) its connection is destroyed and the requests behind it fail as resets. No callback follows.
   */
  cancel(req: PoolRequest, hard: boolean): void;
  /** Takes no new requests; queued and in-flight ones are answered, then every connection closes (resolves then). */
  close(): Promise<void>;
  /** Every connection closes now; requests in flight fail. */
  destroy(): void;
}

interface Conn {
  readonly socket: Socket;
  readonly parser: ResponseParser;
  /** Requests written on this connection and not answered yet, in order; null = cancelled (answer discarded). */
  readonly owed: Array<PoolRequest | null>;
  dead: boolean;
}

class UpstreamClosedError extends Error {
  readonly code = 'ECONNRESET';
}

class UpstreamConnectTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

export function createUpstreamPool(url: string, opts: PoolOptions = {}): UpstreamPool {
  const u = new URL(url);
  if (u.protocol !== 'http:') throw new Error(`upstream must be http://, got ${url}`);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = Number(u.port || 80);
  const maxConnections = opts.maxConnections ?? 256;
  const pipeline = Math.max(1, opts.pipeline ?? 4);
  const idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;

  const all = new Set<Conn>();
  const idle: Conn[] = [];
  const queue: PoolRequest[] = [];
  /** Requests per write now: `pipeline`, or 1 while the upstream closes connections after a response. */
  let depth = pipeline;
  let scheduled = false;
  let closing = false;
  let destroyed = false;
  let closed: (() => void) | undefined;
  const closedPromise = new Promise<void>((resolve) => (closed = resolve));

  const settleIfClosed = () => {
    if (closing && all.size === 0 && queue.length === 0) closed!();
  };

  const release = (conn: Conn) => {
    all.delete(conn);
    const i = idle.indexOf(conn);
    if (i !== -1) idle.splice(i, 1);
    settleIfClosed();
    if (queue.length > 0) schedule();
  };

  /**
   * The connection is finished. The request at its head fails (with `responded` if bytes of its answer had come);
   * the ones pipelined behind it go back to the front of the queue once, and fail only if that happens to them
   * again. After a complete answer with `Connection: close` (`afterAnswer`) the head goes back too: the server
   * answered everything it read.
   */
  const fail = (conn: Conn, err: Error & { code?: string }, afterAnswer = false) => {
    if (conn.dead) return;
    conn.dead = true;
    conn.socket.destroy();
    const owed = conn.owed.splice(0);
    const again: PoolRequest[] = [];
    owed.forEach((req, i) => {
      if (!req) return;
      req.pooled = undefined;
      if ((i > 0 || afterAnswer) && !req.requeued && !destroyed) {
        req.requeued = true;
        again.push(req);
        return;
      }
      req.requeued = false;
      req.onError(err, i === 0 && !afterAnswer && conn.parser.started);
    });
    if (again.length > 0) queue.unshift(...again);
    release(conn);
  };

  const open = (): Conn => {
    const socket = connect({ host, port, noDelay: true });
    const conn: Conn = { socket, parser: new ResponseParser(), owed: [], dead: false };
    all.add(conn);
    const connectTimer = setTimeout(() => fail(conn, new UpstreamConnectTimeout(`no connection to ${u.host} within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    socket.once('connect', () => clearTimeout(connectTimer));
    socket.setTimeout(idleTimeoutMs, () => {
      if (conn.owed.length === 0) fail(conn, new UpstreamClosedError('idle timeout'));
    });
    socket.on('data', (chunk: Buffer) => {
      let done: UpstreamResponse[];
      try {
        done = conn.parser.feed(chunk);
      } catch (err) {
        return fail(conn, err as Error);
      }
      for (const res of done) {
        const req = conn.owed.shift();
        if (req === undefined) return fail(conn, new UpstreamClosedError('upstream sent a response nobody asked for'));
        if (req) {
          req.pooled = undefined;
          req.requeued = false;
          req.onResponse(res);
        }
        // An upstream that closes after each response gets one request per connection until it keeps one open.
        depth = res.keepAlive ? pipeline : 1;
        if (!res.keepAlive) return fail(conn, new UpstreamClosedError('upstream closed the connection (Connection: close)'), true);
      }
      if (conn.dead) return;
      if (conn.owed.length === 0) {
        if (closing && queue.length === 0) return fail(conn, new UpstreamClosedError('pool closing'));
        idle.push(conn);
        if (queue.length > 0) schedule();
      } else if (abandoned(conn)) {
        fail(conn, new UpstreamClosedError('every request on the connection was cancelled'));
      }
    });
    socket.on('end', () => {
      const last = conn.parser.end();
      if (last) {
        const req = conn.owed.shift();
        if (req) {
          req.pooled = undefined;
          req.requeued = false;
          req.onResponse(last);
        }
      }
      // After a close-delimited answer the upstream answered all it read: the requests behind go back to the queue.
      fail(conn, new UpstreamClosedError('upstream closed the connection'), last !== undefined);
    });
    socket.on('error', (err) => fail(conn, err));
    socket.on('close', () => {
      clearTimeout(connectTimer);
      fail(conn, new UpstreamClosedError('upstream connection closed'));
    });
    return conn;
  };

  /** Every request the connection still owes was cancelled: nobody waits for it, so it is not kept busy. */
  const abandoned = (conn: Conn) => conn.owed.every((r) => r === null);

  const flush = () => {
    scheduled = false;
    while (queue.length > 0) {
      let conn = idle.pop();
      if (!conn) {
        if (all.size >= maxConnections) return;
        conn = open();
      }
      const batch = [queue.shift()!];
      if (batch[0]!.pipelinable) while (batch.length < depth && queue.length > 0 && queue[0]!.pipelinable) batch.push(queue.shift()!);
      for (const req of batch) {
        conn.owed.push(req);
        req.pooled = conn;
      }
      conn.socket.write(batch.length === 1 ? batch[0]!.bytes : Buffer.concat(batch.map((r) => r.bytes)));
    }
  };

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  return {
    origin: u.origin,
    send(req) {
      if (destroyed || closing) return req.onError(new UpstreamClosedError(destroyed ? 'pool destroyed' : 'pool closing'), false);
      queue.push(req);
      schedule();
    },
    cancel(req, hard) {
      const conn = req.pooled as Conn | undefined;
      if (!conn) {
        const i = queue.indexOf(req);
        if (i !== -1) queue.splice(i, 1);
        return;
      }
      req.pooled = undefined;
      const i = conn.owed.indexOf(req);
      if (i !== -1) conn.owed[i] = null;
      if (hard || abandoned(conn)) fail(conn, new UpstreamClosedError('request cancelled'));
    },
    close() {
      closing = true;
      if (queue.length === 0) for (const conn of [...idle]) fail(conn, new UpstreamClosedError('pool closing'));
      settleIfClosed();
      return closedPromise;
    },
    destroy() {
      closing = true;
      destroyed = true;
      for (const req of queue.splice(0)) req.onError(new UpstreamClosedError('pool destroyed'), false);
      for (const conn of [...all]) fail(conn, new UpstreamClosedError('pool destroyed'));
      settleIfClosed();
    },
  };
}
