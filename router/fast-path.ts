// The router's client side for prediction traffic, on raw sockets: reads HTTP/1.1 requests with http1.ts, starts
// a proxy exchange for each (one at a time per connection, pipelined requests queue), and writes each answer in
// one write. node:http's per-request objects (IncomingMessage, ServerResponse, header maps, streams) are most of
// a Node proxy's CPU; this path has none. The first request that is not a plain prediction (/admin, /metrics,
// chunked bodies, HTTP/1.0, Expect, a malformed head…) hands the whole connection, bytes read so far included,
// to the node:http server, which serves it from then on exactly as before.
import type { Socket } from 'node:net';
import { MAX_HEAD_BYTES, parseRequestHead, responseHead, type RequestHead } from './http1.js';
import { PayloadTooLargeError } from './errors.js';
import type { ExchangeHandle, Proxy, Reply } from './proxy.js';

export interface FastPathOptions {
  proxy: Proxy;
  bodyLimitBytes: number;
  /** An idle client connection closes after this long (node:http's keepAliveTimeout on the other path). */
  keepAliveTimeoutMs: number;
  /** A request head must be complete this long after its first byte (node:http's headersTimeout). */
  headersTimeoutMs: number;
  /** Takes over a connection the fast path does not serve; `buffered` = bytes already read from it. */
  handOff(socket: Socket, buffered: Buffer): void;
}

export interface FastPath {
  accept(socket: Socket): void;
  /** Idle connections close now, busy ones after their answer (with `Connection: close`). */
  drain(): void;
  /** Every connection closes now. */
  destroyAll(): void;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

export function createFastPath(opts: FastPathOptions): FastPath {
  const { proxy, bodyLimitBytes: limit, keepAliveTimeoutMs, headersTimeoutMs, handOff } = opts;
  /** Bytes a connection may buffer while its current request is in flight before it stops reading. */
  const maxBuffered = MAX_HEAD_BYTES + limit;
  const connections = new Set<Connection>();
  let draining = false;

  class Connection {
    /** Bytes received and not consumed yet, as they came (concatenated once a whole request is there). */
    chunks: Buffer[] = [];
    size = 0;
    /** Where the search for the end of the head goes on (the bytes before it were searched already). */
    scanFrom = 0;
    /** The parsed head of the request whose body is still arriving, and where that body ends. */
    head: RequestHead | undefined;
    bodyEnd = 0;
    /** The exchange in flight (one at a time). */
    current: ExchangeHandle | undefined;
    /** Answer with `Connection: close` and end after the current request. */
    closeAfter = false;
    /** When the first byte of a still incomplete head arrived (performance.now()). */
    headSince = 0;
    /** No more requests are read: the connection is closing, was closed, or went to node:http. */
    gone = false;
    /** Inside proxy.start (an answer given there must not recurse into next()). */
    starting = false;
    answered = false;

    constructor(readonly socket: Socket) {
      socket.setNoDelay(true);
      socket.setTimeout(keepAliveTimeoutMs);
      for (const [event, listener] of this.listeners()) socket.on(event, listener);
    }

    /** The socket events this connection listens to (removed again at a hand-off). */
    listeners(): Array<[string, (...args: any[]) => void]> {
      return [
        ['data', this.onData],
        ['end', this.onEnd],
        ['error', this.onError],
        ['close', this.onClose],
        ['timeout', this.onTimeout],
        ['drain', this.onDrain],
      ];
    }

    onData = (chunk: Buffer) => {
      if (this.gone) return; // closing: what the client still sends is dropped
      this.chunks.push(chunk);
      this.size += chunk.length;
      if (this.current || this.socket.writableNeedDrain) {
        // A pipelining client, or one that does not read its answers: stop reading until it catches up.
        if (this.size > maxBuffered) this.socket.pause();
        return;
      }
      this.next();
    };

    /** All buffered bytes as one Buffer (kept as the only chunk). */
    joined(): Buffer {
      if (this.chunks.length === 0) return EMPTY;
      if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
      return this.chunks[0]!;
    }

    /** Serves the buffered requests, one at a time, while they are complete and answered at once. */
    next(): void {
      while (!this.current && !this.gone && this.size > 0 && !this.socket.writableNeedDrain) {
        if (!this.head) {
          const buf = this.joined();
          const end = buf.indexOf(CRLFCRLF, this.scanFrom);
          if (end === -1) {
            this.scanFrom = Math.max(0, buf.length - 3);
            if (this.headSince === 0) this.headSince = performance.now();
            if (buf.length > MAX_HEAD_BYTES || performance.now() - this.headSince > headersTimeoutMs) this.handOff();
            return;
          }
          // An oversized head, and anything the parser does not take, is node:http's (431, 400, other routes).
          const head = end <= MAX_HEAD_BYTES ? parseRequestHead(buf.toString('latin1', 0, end)) : undefined;
          if (!head) return this.handOff();
          this.headSince = 0;
          this.scanFrom = 0;
          if (head.contentLength > limit) {
            // The oversized body is not read: answer and close, as node:http's path does.
            this.closeAfter = true;
            this.starting = true;
            proxy.refuse(head.requestId, new PayloadTooLargeError(limit), this.reply, true);
            this.starting = false;
            return;
          }
          this.head = head;
          this.bodyEnd = end + 4 + head.contentLength;
        }
        if (this.size < this.bodyEnd) return;
        const head = this.head;
        const buf = this.joined();
        const bodyEnd = this.bodyEnd;
        this.head = undefined;
        if (buf.length === bodyEnd) {
          this.chunks = [];
          this.size = 0;
        } else {
          this.chunks = [buf.subarray(bodyEnd)];
          this.size = buf.length - bodyEnd;
        }
        if (head.close) this.closeAfter = true;
        this.answered = false;
        this.starting = true;
        const exchange = proxy.start(
          {
            method: head.method,
            target: head.target,
            requestId: head.requestId,
            pin: head.pin,
            session: head.session,
            forwarded: head.forwarded,
            body: buf.subarray(bodyEnd - head.contentLength, bodyEnd),
            record: true,
          },
          this.reply,
        );
        this.starting = false;
        if (!this.answered) this.current = exchange; // else answered at once (400, 503): on to the next request
      }
    }

    /** Writes one answer; a later one (not from inside proxy.start) goes on with the next buffered request. */
    reply: Reply = (status, headers, body) => {
      this.current = undefined;
      this.answered = true;
      if (this.gone) return;
      const close = this.closeAfter || draining;
      if (close) headers.push('connection', 'close');
      const head = responseHead(status, headers);
      const out = Buffer.allocUnsafe(head.length + body.length);
      out.write(head, 0, 'latin1');
      body.copy(out, head.length);
      this.socket.write(out);
      if (close) return this.close();
      if (this.starting) return;
      if (this.socket.isPaused() && !this.socket.writableNeedDrain) this.socket.resume();
      this.next(); // stops at once while the client has not read what it was sent ('drain' goes on)
    };

    onDrain = () => {
      if (this.gone) return;
      if (this.socket.isPaused()) this.socket.resume();
      if (!this.current) this.next();
    };

    onEnd = () => {
      // The client half-closed: answer what is in flight, then close.
      if (this.current) this.closeAfter = true;
      else this.close();
    };

    onTimeout = () => {
      if (!this.current) this.close();
    };

    onError = () => {
      this.socket.destroy(); // 'close' follows
    };

    onClose = () => {
      connections.delete(this);
      this.gone = true;
      this.chunks = [];
      this.current?.cancel();
      this.current = undefined;
    };

    /** Reads no more; ends the socket once what was written is flushed, then destroys it (not left half-open). */
    close(): void {
      if (this.gone) return;
      this.gone = true;
      this.chunks = [];
      this.size = 0;
      this.socket.end(() => this.socket.destroy());
    }

    handOff(): void {
      const { socket } = this;
      const buffered = this.joined();
      this.gone = true;
      this.chunks = [];
      connections.delete(this);
      for (const [event, listener] of this.listeners()) socket.removeListener(event, listener);
      socket.setTimeout(0);
      if (socket.isPaused()) socket.resume();
      handOff(socket, buffered);
    }
  }

  return {
    accept(socket) {
      if (draining) {
        socket.destroy();
        return;
      }
      connections.add(new Connection(socket));
    },
    drain() {
      draining = true;
      for (const conn of [...connections]) if (!conn.current) conn.close();
    },
    destroyAll() {
      for (const conn of [...connections]) conn.socket.destroy();
    },
  };
}
