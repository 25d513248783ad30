// The small part of HTTP/1.1 the router's hot path speaks itself: a strict parser for the request heads it serves
// (POST /predict, POST /predict/explain, GET /model/info with a Content-Length body), and an incremental parser
// for the model servers' responses (Content-Length, chunked or close-delimited bodies; 1xx skipped). Anything the
// request parser does not fully understand returns undefined, and the connection goes to node:http instead, so
// odd or malformed requests get node's full HTTP handling (and its 400/431 answers), never a guess.
import { STATUS_CODES } from 'node:http';

/** Largest request or response head read on the fast path (node:http's default --max-http-header-size). */
export const MAX_HEAD_BYTES = 16 * 1024;

/** Request headers passed to the model server; everything else (cookies, auth, hop-by-hop) stays at the router. */
export const FORWARDED_REQUEST_HEADERS: ReadonlySet<string> = new Set(['content-type', 'content-encoding', 'accept', 'accept-encoding', 'user-agent']);

/**
 * Response headers copied from the upstream (what the model server sends that a client may use); hop-by-hop ones,
 * content-length (the router frames the body itself) and the router's own (x-served-by, x-model-version,
 * x-request-id) are never copied.
 */
const COPIED_RESPONSE_HEADERS: ReadonlySet<string> = new Set(['content-type', 'content-encoding', 'date', 'retry-after', 'allow', 'cache-control', 'etag', 'last-modified', 'vary', 'location']);

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control characters other than HTAB (a bare CR or LF inside a line included). */
const CTL_RE = /[\x00-\x08\x0a-\x1f\x7f]/;
/** A request-target the fast path takes: origin-form, visible ASCII only. */
const TARGET_RE = /^\/[\x21-\x7e]*$/;
const DIGITS_RE = /^\d{1,15}$/;

/** Headers a request may carry once on the fast path, each with its bit in a per-request mask (no Set per request). */
const ONCE_BITS: ReadonlyMap<string, number> = new Map(
  ['content-length', 'host', 'x-request-id', 'x-gsg-color', 'x-gsg-session', ...FORWARDED_REQUEST_HEADERS].map((name, i) => [name, 1 << i]),
);
const HOST_BIT = ONCE_BITS.get('host')!;

/** A request head the fast path serves. */
export interface RequestHead {
  method: 'GET' | 'POST';
  /** The request-target as sent (path and query). */
  target: string;
  contentLength: number;
  /** The client sent `Connection: close`. */
  close: boolean;
  requestId: string | undefined;
  pin: string | undefined;
  session: string | undefined;
  /** The forwarded request headers as `name: value\r\n` lines. */
  forwarded: string;
}

/** Whether the router proxies this method and path (the fast path and the node:http path agree on it). */
export function isProxiedRoute(method: string | undefined, path: string): boolean {
  return method === 'POST' ? path === '/predict' || path === '/predict/explain' : method === 'GET' && path === '/model/info';
}

/**
 * Parses a request head (the text before the blank line, latin1) for the fast path, or returns undefined when the
 * request is anything else: another route, not HTTP/1.1, Transfer-Encoding, Expect, Upgrade, no Host, repeated
 * headers the router reads, obs-fold, control characters, a malformed line.
 */
export function parseRequestHead(head: string): RequestHead | undefined {
  const lines = head.split('\r\n');
  const first = lines[0]!;
  const sp1 = first.indexOf(' ');
  const sp2 = first.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || first.slice(sp2 + 1) !== 'HTTP/1.1') return undefined;
  const method = first.slice(0, sp1);
  const target = first.slice(sp1 + 1, sp2);
  if (!TARGET_RE.test(target)) return undefined;
  const q = target.indexOf('?');
  if (!isProxiedRoute(method, q === -1 ? target : target.slice(0, q))) return undefined;

  const out: RequestHead = { method: method as 'GET' | 'POST', target, contentLength: 0, close: false, requestId: undefined, pin: undefined, session: undefined, forwarded: '' };
  let seen = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (CTL_RE.test(line)) return undefined;
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const rawName = line.slice(0, colon);
    if (!TOKEN_RE.test(rawName)) return undefined; // also refuses obs-fold (a line starting with SP/HTAB)
    const name = rawName.toLowerCase();
    const value = trimOws(line.slice(colon + 1));
    const bit = ONCE_BITS.get(name);
    if (bit !== undefined) {
      if (seen & bit) return undefined;
      seen |= bit;
    }
    switch (name) {
      case 'content-length':
        if (!DIGITS_RE.test(value)) return undefined;
        out.contentLength = Number(value);
        break;
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return undefined;
      case 'connection':
        for (const token of value.toLowerCase().split(',')) {
          const t = trimOws(token);
          if (t === 'close') out.close = true;
          else if (t === 'upgrade') return undefined;
        }
        break;
      case 'x-request-id':
        out.requestId = value;
        break;
      case 'x-gsg-color':
        out.pin = value;
        break;
      case 'x-gsg-session':
        out.session = value;
        break;
      default:
        if (FORWARDED_REQUEST_HEADERS.has(name)) out.forwarded += `${name}: ${value}\r\n`;
    }
  }
  return seen & HOST_BIT ? out : undefined;
}

/** One complete upstream response. */
export interface UpstreamResponse {
  status: number;
  /** The copied headers, flat: name, value, name, value… */
  headers: string[];
  body: Buffer;
  /** The upstream keeps the connection open after this response. */
  keepAlive: boolean;
}

/** The upstream sent something that is not an HTTP/1.x response. */
export class UpstreamProtocolError extends Error {
  readonly code = 'UPSTREAM_PROTOCOL';
}

const enum Body {
  Length,
  Chunked,
  UntilClose,
}
const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailers,
}

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

/**
 * Reads responses off one upstream connection, one after another (pipelined responses included). feed() returns
 * the responses completed by a chunk; end() the close-delimited one an EOF completes. `started` says whether any
 * byte of the current response has arrived (an error before that may be retried).
 */
export class ResponseParser {
  private buf: Buffer = EMPTY;
  private inHead = true;
  private mode = Body.Length;
  private remaining = 0;
  private chunkState = Chunk.Size;
  private status = 0;
  private headers: string[] = [];
  private keepAlive = true;
  private parts: Buffer[] = [];
  private size = 0;
  started = false;

  feed(chunk: Buffer): UpstreamResponse[] {
    this.started = true;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const done: UpstreamResponse[] = [];
    for (;;) {
      if (this.inHead) {
        const end = this.buf.indexOf(CRLFCRLF);
        if (end === -1) {
          if (this.buf.length > MAX_HEAD_BYTES) throw new UpstreamProtocolError(`response head over ${MAX_HEAD_BYTES} bytes`);
          break;
        }
        const head = this.buf.toString('latin1', 0, end);
        this.buf = this.buf.subarray(end + 4);
        if (!this.readHead(head)) continue; // 1xx: the real response follows
        this.inHead = false;
      }
      if (!this.readBody()) break;
      done.push({ status: this.status, headers: this.headers, body: this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size), keepAlive: this.keepAlive });
      this.reset();
      if (this.buf.length === 0) {
        this.started = false;
        break;
      }
    }
    return done;
  }

  /** The upstream closed the connection: the close-delimited response it completes, if one was being read. */
  end(): UpstreamResponse | undefined {
    if (this.inHead || this.mode !== Body.UntilClose) return undefined;
    const res = { status: this.status, headers: this.headers, body: Buffer.concat(this.parts, this.size), keepAlive: false };
    this.reset();
    this.started = false;
    return res;
  }

  private reset(): void {
    this.inHead = true;
    this.headers = [];
    this.parts = [];
    this.size = 0;
  }

  /** Reads a status line and headers; false for a 1xx head (skipped). */
  private readHead(head: string): boolean {
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.([01]) ([1-5]\d\d)(?: |$)/.exec(lines[0]!);
    if (!m) throw new UpstreamProtocolError(`not an HTTP/1.x status line: ${JSON.stringify(lines[0]!.slice(0, 60))}`);
    const status = Number(m[2]);
    if (status < 200) {
      if (status === 101) throw new UpstreamProtocolError('upstream switched protocols');
      return false;
    }
    const http10 = m[1] === '0';
    let close = false;
    let keepAliveToken = false;
    let length: number | undefined;
    let chunked = false;
    let otherEncoding = false;
    const headers: string[] = [];
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      // A CR, LF or NUL inside a value would reach the client's answer (response splitting): the answer is refused.
      if (!TOKEN_RE.test(name) || CTL_RE.test(line)) throw new UpstreamProtocolError(`malformed response header line: ${JSON.stringify(line.slice(0, 60))}`);
      const lower = name.toLowerCase();
      const value = trimOws(line.slice(colon + 1));
      if (lower === 'content-length') {
        if (!DIGITS_RE.test(value) || (length !== undefined && length !== Number(value))) throw new UpstreamProtocolError(`bad content-length: ${value.slice(0, 30)}`);
        length = Number(value);
      } else if (lower === 'transfer-encoding') {
        const codings = value.toLowerCase().split(',').map(trimOws);
        chunked = codings[codings.length - 1] === 'chunked';
        otherEncoding = !chunked;
      } else if (lower === 'connection') {
        const tokens = value.toLowerCase().split(',').map(trimOws);
        if (tokens.includes('close')) close = true;
        if (tokens.includes('keep-alive')) keepAliveToken = true;
      } else if (COPIED_RESPONSE_HEADERS.has(lower)) {
        headers.push(name, value);
      }
    }
    if ((chunked || otherEncoding) && length !== undefined) throw new UpstreamProtocolError('both Transfer-Encoding and Content-Length');
    this.status = status;
    this.headers = headers;
    // Close wins over keep-alive; HTTP/1.0 keeps the connection only when asked, and never after Transfer-Encoding.
    this.keepAlive = !close && (http10 ? keepAliveToken && !chunked && !otherEncoding : true);
    if (status === 204 || status === 304) {
      this.mode = Body.Length;
      this.remaining = 0;
    } else if (chunked) {
      this.mode = Body.Chunked;
      this.chunkState = Chunk.Size;
    } else if (otherEncoding || length === undefined) {
      this.mode = Body.UntilClose;
      this.keepAlive = false;
    } else {
      this.mode = Body.Length;
      this.remaining = length;
    }
    return true;
  }

  /** Consumes body bytes from the buffer; true once the body is complete. */
  private readBody(): boolean {
    if (this.mode === Body.UntilClose) {
      this.take(this.buf.length);
      return false;
    }
    if (this.mode === Body.Length) {
      this.take(Math.min(this.remaining, this.buf.length));
      return this.remaining === 0;
    }
    for (;;) {
      if (this.chunkState === Chunk.Size) {
        const eol = this.buf.indexOf(CRLF);
        if (eol === -1) {
          if (this.buf.length > 1024) throw new UpstreamProtocolError('chunk size line too long');
          return false;
        }
        const line = this.buf.toString('latin1', 0, eol);
        const semi = line.indexOf(';');
        const hex = trimOws(semi === -1 ? line : line.slice(0, semi));
        if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new UpstreamProtocolError(`bad chunk size: ${JSON.stringify(hex.slice(0, 20))}`);
        this.buf = this.buf.subarray(eol + 2);
        this.remaining = parseInt(hex, 16);
        this.chunkState = this.remaining === 0 ? Chunk.Trailers : Chunk.Data;
      } else if (this.chunkState === Chunk.Data) {
        this.take(Math.min(this.remaining, this.buf.length));
        if (this.remaining > 0) return false;
        this.chunkState = Chunk.DataEnd;
      } else if (this.chunkState === Chunk.DataEnd) {
        if (this.buf.length < 2) return false;
        if (this.buf[0] !== 13 || this.buf[1] !== 10) throw new UpstreamProtocolError('chunk data not followed by CRLF');
        this.buf = this.buf.subarray(2);
        this.chunkState = Chunk.Size;
      } else {
        // Trailers (ignored) end with an empty line.
        const eol = this.buf.indexOf(CRLF);
        if (eol === -1) return false;
        this.buf = this.buf.subarray(eol + 2);
        if (eol === 0) return true;
      }
    }
  }

  private take(n: number): void {
    if (n === 0) return;
    this.parts.push(this.buf.subarray(0, n));
    this.size += n;
    this.remaining -= n;
    this.buf = this.buf.subarray(n);
  }
}

/** Strips optional whitespace (SP and HTAB only; String.prototype.trim also strips bytes HTTP does not allow there). */
function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s.charCodeAt(start) === 32 || s.charCodeAt(start) === 9)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** A serialized response head: status line, the given headers, and the blank line. */
export function responseHead(status: number, headers: readonly string[]): string {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return head + '\r\n';
}
