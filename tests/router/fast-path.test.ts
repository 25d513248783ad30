// The router's raw-socket fast path as a client sees it on the wire: pipelined requests, bodies split across
// packets, Connection: close, half-close, and the hand-over of a connection to node:http for everything the fast
// path does not serve (other routes, chunked bodies, HTTP/1.0, malformed heads) — with the bytes already read.
import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { startRouter, type RouterUnderTest } from './harness.js';

let blue: FakeModelServer;
let rt: RouterUnderTest;
let port: number;

beforeEach(async () => {
  blue = await startFakeModelServer({ version: '2026-01-01.001' });
  rt = await startRouter({ bodyLimitBytes: 4096 });
  await rt.router.setUpstream('blue', { url: blue.url, version: blue.version });
  port = Number(new URL(rt.url).port);
});

afterEach(async () => {
  await rt.close();
  await blue.close();
});

interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw client connection: writes exact bytes, reads complete responses (Content-Length framed), sees the close. */
class WireClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;
  /** The server ended its side (FIN). */
  ended = false;
  readonly socket: Socket;

  constructor(allowHalfOpen = false) {
    this.socket = connect({ port, host: '127.0.0.1', allowHalfOpen });
    this.socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    this.socket.on('error', () => {});
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  write(text: string): void {
    this.socket.write(Buffer.from(text, 'utf8'));
  }

  /** The next complete response; rejects when the connection closes first. */
  async response(): Promise<WireResponse> {
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end !== -1) {
        const lines = this.buf.toString('latin1', 0, end).split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of lines.slice(1)) {
          const i = line.indexOf(':');
          headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
        }
        const length = Number(headers['content-length'] ?? 0);
        if (this.buf.length >= end + 4 + length) {
          const body = this.buf.toString('utf8', end + 4, end + 4 + length);
          this.buf = this.buf.subarray(end + 4 + length);
          return { status: Number(lines[0]!.split(' ')[1]), headers, body };
        }
      }
      if (this.closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.buf.toString('latin1'))}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async closedByServer(): Promise<boolean> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return true;
  }

  async endedByServer(): Promise<boolean> {
    while (!this.ended && !this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return true;
  }

  close(): void {
    this.socket.destroy();
  }
}

const clients: WireClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
const client = (allowHalfOpen = false) => {
  const c = new WireClient(allowHalfOpen);
  clients.push(c);
  return c;
};

const predictRequest = (texts: string[], extra = '') => {
  const body = JSON.stringify({ texts });
  return `POST /predict HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
};

describe('predictions on one connection', () => {
  it('answers pipelined predictions in order, each with its own request id and answer', async () => {
    const c = client();
    c.write([1, 2, 3].map((n) => predictRequest(Array(n).fill('hola'), `X-Request-Id: req-${n}\r\n`)).join(''));
    for (const n of [1, 2, 3]) {
      const res = await c.response();
      expect(res.status).toBe(200);
      expect(res.headers['x-request-id']).toBe(`req-${n}`);
      expect(JSON.parse(res.body)).toHaveLength(n);
    }
  });

  it('waits for a head and body that arrive in several packets', async () => {
    const c = client();
    const req = predictRequest(['uno', 'dos']);
    const cut1 = 10;
    const cut2 = req.indexOf('\r\n\r\n') + 6;
    c.write(req.slice(0, cut1));
    await new Promise((r) => setTimeout(r, 30));
    c.write(req.slice(cut1, cut2));
    await new Promise((r) => setTimeout(r, 30));
    c.write(req.slice(cut2));
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toHaveLength(2);
  });

  it('answers Connection: close with Connection: close and closes the connection', async () => {
    const c = client();
    c.write(predictRequest(['hola'], 'Connection: close\r\n'));
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(res.headers.connection).toBe('close');
    expect(await c.closedByServer()).toBe(true);
  });

  it('still answers a client that half-closes after sending its request', async () => {
    const c = client(true);
    c.write(predictRequest(['hola']));
    c.socket.end();
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(await c.closedByServer()).toBe(true);
  });

  it('answers a body over the limit with 413 JSON and closes, without contacting the upstream', async () => {
    const c = client();
    c.write(`POST /predict HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"texts":["`);
    const res = await c.response();
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).detail).toMatch(/4096 bytes/);
    expect(await c.closedByServer()).toBe(true);
    expect(blue.predictions).toBe(0);
  });

  it('stops reading ahead from a client that does not read its answers, and answers all once it reads', async () => {
    const c = client();
    c.socket.pause();
    const texts = Array(50).fill('hola');
    const total = 3000;
    c.write(Array.from({ length: total }, () => predictRequest(texts)).join(''));
    await new Promise((r) => setTimeout(r, 500));
    expect(blue.predictions).toBeLessThan(total);
    c.socket.resume();
    for (let i = 0; i < total; i++) expect((await c.response()).status).toBe(200);
    expect(blue.predictions).toBe(total);
  });

  it('closes the connection after a 413 even when the client keeps sending', async () => {
    const c = client(true);
    c.write(`POST /predict HTTP/1.1\r\nHost: router\r\nContent-Length: 900000\r\n\r\n`);
    const junk = 'x'.repeat(64 * 1024);
    const pump = setInterval(() => !c.closed && c.socket.write(junk), 5);
    try {
      expect((await c.response()).status).toBe(413);
      expect(await c.closedByServer()).toBe(true);
    } finally {
      clearInterval(pump);
    }
  });

  it('hands a head over 16 KiB to node:http, which answers 431', async () => {
    const c = client();
    c.write(predictRequest(['hola'], `X-Padding: ${'p'.repeat(20 * 1024)}\r\n`));
    expect((await c.response()).status).toBe(431);
    expect(blue.predictions).toBe(0);
  });

  it('forwards only the listed request headers, with the request id', async () => {
    const c = client();
    c.write(predictRequest(['hola'], 'Cookie: session=secret\r\nAuthorization: Bearer t\r\nUser-Agent: wire-test\r\nX-Request-Id: fwd-1\r\n'));
    expect((await c.response()).status).toBe(200);
    expect(blue.lastHeaders?.cookie).toBeUndefined();
    expect(blue.lastHeaders?.authorization).toBeUndefined();
    expect(blue.lastHeaders?.['user-agent']).toBe('wire-test');
    expect(blue.lastHeaders?.['x-request-id']).toBe('fwd-1');
  });
});

describe('closing', () => {
  it('closes, and lets the router close, a client left half-open after a Connection: close answer', async () => {
    const c = client(true);
    c.write(predictRequest(['hola'], 'Connection: close\r\n'));
    expect((await c.response()).status).toBe(200);
    expect(await c.endedByServer()).toBe(true);
    await rt.close(); // resolves: the router's side is destroyed, not left half-open
  });
});

describe('hand-over to node:http', () => {
  it('serves /health and then predictions on the same connection', async () => {
    const c = client();
    c.write('GET /health HTTP/1.1\r\nHost: router\r\n\r\n');
    const health = await c.response();
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
    c.write(predictRequest(['hola'], 'X-Request-Id: after-health\r\n'));
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(res.headers['x-served-by']).toBe('blue');
    expect(res.headers['x-request-id']).toBe('after-health');
  });

  it('keeps the bytes already read: a prediction pipelined behind /health is answered after it', async () => {
    const c = client();
    c.write(`GET /health HTTP/1.1\r\nHost: router\r\n\r\n${predictRequest(['a', 'b'])}`);
    expect((await c.response()).status).toBe(200);
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toHaveLength(2);
  });

  it('proxies a prediction sent with a chunked body', async () => {
    const c = client();
    const body = JSON.stringify({ texts: ['hola', 'adiós'] });
    const bytes = Buffer.byteLength(body);
    c.write(`POST /predict HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${bytes.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toHaveLength(2);
  });

  it('proxies an HTTP/1.0 prediction', async () => {
    const c = client();
    const body = JSON.stringify({ texts: ['hola'] });
    c.write(`POST /predict HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(res.headers['x-served-by']).toBe('blue');
  });

  it('answers a malformed head with 400 and never reaches the upstream', async () => {
    const c = client();
    c.write('POST /predict HTTP/1.1\r\nHost: router\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x');
    const res = await c.response();
    expect(res.status).toBe(400);
    expect(blue.predictions).toBe(0);
  });

  it('answers 404 JSON for an unknown route', async () => {
    const c = client();
    c.write('GET /nope HTTP/1.1\r\nHost: router\r\n\r\n');
    const res = await c.response();
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body).detail).toMatch(/not found/);
  });
});
