// Every class of bad client input gets a clear JSON 4xx (upstream's codes and messages where upstream has them),
// never a 5xx, never an HTML page, and the server keeps serving afterwards.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../helpers/wait.js';
import { body, postJson, startTestServer, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ GSG_BODY_LIMIT_BYTES: String(1024 * 1024) }, {}, { logLevel: 'debug' });
});
afterAll(async () => {
  await server?.close();
});

async function expectDetail(r: Response, status: number, detail: string | RegExp) {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toContain('application/json');
  const b = await body(r);
  if (typeof detail === 'string') expect(b.detail).toBe(detail);
  else expect(b.detail).toMatch(detail);
}

/** Writes raw bytes on a fresh connection and resolves with everything the server sent back before closing. */
function rawExchange(port: number, chunks: string[], opts: { endAfterWrite?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve(received) : reject(err)));
    socket.on('connect', () => {
      for (const c of chunks) socket.write(c);
      if (opts.endAfterWrite) socket.end();
    });
  });
}

describe.each(['/predict', '/predict/explain'])('%s: 422 naming the field and index', (path) => {
  it.each([
    ['an empty text', { texts: ['bien', ''] }, 'Text at index 1 cannot be empty or whitespace only'],
    ['a whitespace-only text', { texts: [' \t\n '] }, 'Text at index 0 cannot be empty or whitespace only'],
    ['no texts', { texts: [] }, 'texts: List should have at least 1 item'],
    ['101 texts', { texts: Array.from({ length: 101 }, () => 'bien') }, 'texts: List should have at most 100 items'],
    ['a non-string text', { texts: ['bien', 42] }, /^texts\[1\]: .*expected string/],
    ['a missing texts field', { text: 'bien' }, 'texts: Field required'],
    ['texts that is not a list', { texts: 'bien' }, 'texts: Input should be a valid list of strings'],
    ['a body that is not an object', ['bien'], /^\(root\): .*expected object/],
  ])('%s', async (_name, payload, detail) => {
    await expectDetail(await postJson(`${server.url}${path}`, payload), 422, detail);
  });
});

describe('400', () => {
  it('names the index and the size of a text over 5120 UTF-8 bytes, counted in bytes not characters', async () => {
    const ok = 'ñ'.repeat(2560); // 5120 bytes
    const over = 'ñ'.repeat(2560) + 'a'; // 5121 bytes, 2561 characters
    await expectDetail(await postJson(`${server.url}/predict`, { texts: [ok, 'bien', over] }), 400, 'Text at index 2 exceeds maximum size of 5120 bytes (5121 bytes provided)');
    await expectDetail(await postJson(`${server.url}/predict/explain`, { texts: ['😀'.repeat(1281)] }), 400, 'Text at index 0 exceeds maximum size of 5120 bytes (5124 bytes provided)');
  });

  it('for malformed JSON and an empty body', async () => {
    await expectDetail(await postJson(`${server.url}/predict`, '{"texts": ["bien"'), 400, /^Request body is not valid JSON: /);
    await expectDetail(await postJson(`${server.url}/predict`, ''), 400, 'Request body is not valid JSON: empty body');
  });
});

describe('415', () => {
  it('for a non-JSON content type', async () => {
    const r = await fetch(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"texts":["bien"]}' });
    await expectDetail(r, 415, 'Content-Type must be application/json (got text/plain)');
    const form = await fetch(`${server.url}/predict/explain`, { method: 'POST', body: new URLSearchParams({ texts: 'bien' }) });
    await expectDetail(form, 415, /application\/x-www-form-urlencoded/);
  });

  it('accepts application/json with a charset', async () => {
    const r = await fetch(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"texts":["bien"]}' });
    expect(r.status).toBe(200);
  });
});

describe('413', () => {
  it('refuses a declared content-length over the limit before the body is sent, and closes the connection', async () => {
    const head = `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`;
    const response = await rawExchange(server.port, [head]); // the body is never sent: the answer cannot wait for it
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(response.toLowerCase()).toContain('connection: close');
    expect(response).toContain('"detail":"Request body exceeds the limit of 1048576 bytes (content-length 2097152)"');
  });

  it('refuses a chunked body as soon as the bytes received pass the limit', async () => {
    const head = 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const chunk = 'x'.repeat(64 * 1024);
    const chunks = Array.from({ length: 20 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`); // 1.25 MiB, never terminated
    const response = await rawExchange(server.port, [head, ...chunks]);
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(response).toContain('"detail":"Request body exceeds the limit of 1048576 bytes"');
  });
});

describe('other bad requests', () => {
  it('explain: top_k must be an integer from 1 to 100', async () => {
    await expectDetail(await postJson(`${server.url}/predict/explain`, { texts: ['bien'], top_k: 0 }), 422, 'top_k: Input should be greater than or equal to 1');
    await expectDetail(await postJson(`${server.url}/predict/explain`, { texts: ['bien'], top_k: 2.5 }), 422, 'top_k: Input should be a valid integer');
    await expectDetail(await postJson(`${server.url}/predict/explain`, { texts: ['bien'], top_k: '3' }), 422, 'top_k: Input should be a valid integer');
  });

  it('a malformed HTTP request gets a JSON 400', async () => {
    const response = await rawExchange(server.port, ['GARBAGE / NOT-HTTP\r\n\r\n']);
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(response).toContain('"detail":"Malformed HTTP request');
  });

  it('a client that disconnects in the middle of its body is logged as a client error, not a server error', async () => {
    const socket = connect(server.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write('POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nx-request-id: gone-away\r\n\r\n{"texts": ["bi');
    await until(() => server.lines.some((l) => l.event === 'serving.request_received' && l.request_id === 'gone-away'), 'the request received');
    socket.destroy();
    await until(() => server.lines.some((l) => l.event === 'serving.request' && l.request_id === 'gone-away'), 'the request logged');
    expect(server.lines.find((l) => l.event === 'serving.request' && l.request_id === 'gone-away')).toMatchObject({ status: 400 });
    expect(server.lines.some((l) => l.event === 'serving.internal_error')).toBe(false);
  });

  it('none of the above was answered with a 5xx, and the server still predicts', async () => {
    const statuses = server.lines.filter((l) => l.event === 'serving.request' && l.route !== '/health').map((l) => l.status as number);
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect((await postJson(`${server.url}/predict`, { texts: ['bien'] })).status).toBe(200);
  });
});
