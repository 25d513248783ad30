// UpstreamPool against real HTTP servers on 127.0.0.1: answers matched to their requests under pipelining,
// upstreams that close after each answer, resets before and during an answer, chunked answers, connection limits,
// idle timeout, cancel and close.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { UpstreamResponse } from '../../router/http1.js';
import { createUpstreamPool, type PoolRequest, type UpstreamPool } from '../../router/upstream-pool.js';
import { until } from '../helpers/wait.js';

interface Upstream {
  url: string;
  server: Server;
  /** Connections accepted so far, and open now. */
  accepted: number;
  open: Set<Socket>;
  maxOpen: number;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A real HTTP server whose handler gets the request body; it counts connections. */
async function upstream(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<Upstream> {
  const up = { accepted: 0, open: new Set<Socket>(), maxOpen: 0 } as Upstream;
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.on('connection', (s: Socket) => {
    up.accepted++;
    up.open.add(s);
    up.maxOpen = Math.max(up.maxOpen, up.open.size);
    s.on('close', () => up.open.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  up.server = server;
  up.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return up;
}

const echo = (req: IncomingMessage, res: ServerResponse, body: string) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), 'x-seen-id': String(req.headers['x-id']) });
  res.end(body);
};

function pool(url: string, opts: Parameters<typeof createUpstreamPool>[1] = {}): UpstreamPool {
  const p = createUpstreamPool(url, opts);
  cleanups.push(() => p.destroy());
  return p;
}

type Outcome = { res: UpstreamResponse } | { err: Error & { code?: string }; responded: boolean };

/** A POST with this body; resolves with the pool's one callback. */
function request(body: string, id = body, pipelinable = true): PoolRequest & { outcome: Promise<Outcome> } {
  let settle!: (o: Outcome) => void;
  const outcome = new Promise<Outcome>((resolve) => (settle = resolve));
  return {
    bytes: Buffer.from(`POST /echo HTTP/1.1\r\nhost: up\r\nx-id: ${id}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`),
    onResponse: (res) => settle({ res }),
    onError: (err, responded) => settle({ err, responded }),
    pooled: undefined,
    requeued: false,
    pipelinable,
    outcome,
  };
}

const bodyOf = (o: Outcome) => ('res' in o ? o.res.body.toString('utf8') : `error ${o.err.code ?? o.err.message}`);

describe('pipelining', () => {
  it('matches every answer to its own request when 300 are sent at once', async () => {
    const up = await upstream(echo);
    const p = pool(up.url);
    const reqs = Array.from({ length: 300 }, (_, i) => request(`body-${i}-${'x'.repeat(i % 37)}`));
    for (const r of reqs) p.send(r);
    const outcomes = await Promise.all(reqs.map((r) => r.outcome));
    expect(outcomes.map(bodyOf)).toEqual(reqs.map((_, i) => `body-${i}-${'x'.repeat(i % 37)}`));
  });

  it('writes requests queued together on fewer connections than requests', async () => {
    const up = await upstream(echo);
    const p = pool(up.url, { pipeline: 8 });
    const reqs = Array.from({ length: 64 }, (_, i) => request(`r${i}`));
    for (const r of reqs) p.send(r);
    await Promise.all(reqs.map((r) => r.outcome));
    expect(up.accepted).toBeLessThanOrEqual(8);
  });

  it('answers every request when the upstream closes the connection after each answer', async () => {
    const up = await upstream((req, res, body) => {
      res.setHeader('connection', 'close');
      echo(req, res, body);
    });
    const p = pool(up.url, { pipeline: 8 });
    const reqs = Array.from({ length: 40 }, (_, i) => request(`c${i}`));
    for (const r of reqs) p.send(r);
    const outcomes = await Promise.all(reqs.map((r) => r.outcome));
    expect(outcomes.map(bodyOf)).toEqual(reqs.map((_, i) => `c${i}`));
  });
});

describe('what is not pipelined', () => {
  it('never makes a request wait behind one that may be slow (not pipelinable)', async () => {
    const up = await upstream((req, res, body) => setTimeout(() => echo(req, res, body), body === 'slow' ? 300 : 0));
    const p = pool(up.url);
    const done: string[] = [];
    const slow = request('slow', 'slow', false);
    const fast = Array.from({ length: 5 }, (_, i) => request(`fast-${i}`));
    for (const r of [slow, ...fast]) {
      p.send(r);
      r.outcome.then((o) => done.push(bodyOf(o)));
    }
    await Promise.all([slow, ...fast].map((r) => r.outcome));
    expect(done.at(-1)).toBe('slow');
  });
});

describe('failures', () => {
  it('reports a connection refused as ECONNREFUSED with no response byte', async () => {
    const up = await upstream(echo);
    const url = up.url;
    await new Promise<void>((resolve) => up.server.close(() => resolve()));
    const r = request('x');
    pool(url).send(r);
    const o = await r.outcome;
    expect('err' in o && o.err.code).toBe('ECONNREFUSED');
    expect('err' in o && o.responded).toBe(false);
  });

  it('reports a reset before any response byte as not responded', async () => {
    const up = await upstream((req) => req.socket.resetAndDestroy());
    const r = request('x');
    pool(up.url).send(r);
    const o = await r.outcome;
    expect('err' in o && o.responded).toBe(false);
  });

  it('reports an answer broken off mid-body as responded', async () => {
    const up = await upstream((req, res) => {
      res.writeHead(200, { 'content-length': 100 });
      res.write('partial');
      setTimeout(() => req.socket.destroy(), 20);
    });
    const r = request('x');
    pool(up.url).send(r);
    const o = await r.outcome;
    expect('err' in o && o.responded).toBe(true);
  });
});

describe('answers', () => {
  it('decodes a chunked answer into one body', async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[{"a":');
      setTimeout(() => res.end('1}]'), 10);
    });
    const r = request('x');
    pool(up.url).send(r);
    const o = await r.outcome;
    expect(bodyOf(o)).toBe('[{"a":1}]');
    expect('res' in o && o.res.headers).toEqual(expect.arrayContaining(['content-type', 'application/json']));
  });
});

describe('connections', () => {
  it('never opens more than maxConnections, queueing the rest in order', async () => {
    const up = await upstream((req, res, body) => setTimeout(() => echo(req, res, body), 20));
    const p = pool(up.url, { maxConnections: 2, pipeline: 1 });
    const reqs = Array.from({ length: 10 }, (_, i) => request(`q${i}`));
    for (const r of reqs) p.send(r);
    const outcomes = await Promise.all(reqs.map((r) => r.outcome));
    expect(outcomes.map(bodyOf)).toEqual(reqs.map((_, i) => `q${i}`));
    expect(up.maxOpen).toBeLessThanOrEqual(2);
  });

  it('closes a connection that stays idle for idleTimeoutMs', async () => {
    const up = await upstream(echo);
    const r = request('x');
    pool(up.url, { idleTimeoutMs: 100 }).send(r);
    await r.outcome;
    expect(up.open.size).toBe(1);
    await until(() => up.open.size === 0, 'the upstream sees its connection closed');
  });

  it('close() lets a request in flight finish, then closes every connection', async () => {
    const up = await upstream((req, res, body) => setTimeout(() => echo(req, res, body), 50));
    const p = pool(up.url);
    const r = request('in-flight');
    p.send(r);
    await until(() => up.open.size === 1, 'the upstream has the connection');
    const closed = p.close();
    expect(bodyOf(await r.outcome)).toBe('in-flight');
    await closed;
    await until(() => up.open.size === 0, 'the upstream sees its connection closed');
  });
});

describe('cancel', () => {
  it('a soft cancel drops that answer; the requests pipelined with it are answered on the same connection', async () => {
    const up = await upstream((req, res, body) => setTimeout(() => echo(req, res, body), 30));
    const p = pool(up.url);
    const reqs = [request('a'), request('dropped'), request('c')];
    let called = false;
    reqs[1]!.outcome.then(() => (called = true));
    for (const r of reqs) p.send(r);
    await until(() => up.open.size === 1, 'the upstream has the connection');
    p.cancel(reqs[1]!, false);
    expect(bodyOf(await reqs[0]!.outcome)).toBe('a');
    expect(bodyOf(await reqs[2]!.outcome)).toBe('c');
    expect(called).toBe(false);
    expect(up.accepted).toBe(1);
  });

  it('closes a connection once every request it carries was cancelled, so clients that left hold nothing', async () => {
    const up = await upstream(() => {}); // never answers
    const p = pool(up.url);
    const r = request('abandoned');
    p.send(r);
    await until(() => up.open.size === 1, 'the upstream has the connection');
    p.cancel(r, false);
    await until(() => up.open.size === 0, 'the upstream sees its connection closed');
  });

  it('a hard cancel closes the connection, and no callback follows', async () => {
    const up = await upstream(() => {}); // never answers
    const p = pool(up.url);
    const r = request('hung');
    let called = false;
    r.outcome.then(() => (called = true));
    p.send(r);
    await until(() => up.open.size === 1, 'the upstream has the connection');
    p.cancel(r, true);
    await until(() => up.open.size === 0, 'the upstream sees its connection closed');
    expect(called).toBe(false);
  });
});
