// A small real HTTP server that answers like the model server (/health, /ready, /model/info, /predict,
// /predict/explain with a model_version), with switches for the failures the router must handle: not ready,
// slow answers, chosen status codes, connections reset before any response byte, and sudden death — in-process,
// or as its own process (spawnFakeModelServer) for SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createInterface } from 'node:readline';

export interface FakeModelServer {
  readonly url: string;
  readonly port: number;
  readonly version: string;
  /** Prediction requests that reached this server (including ones it reset). */
  predictions: number;
  /** Headers of the last request to a prediction route. */
  lastHeaders: IncomingMessage['headers'] | undefined;
  ready: boolean;
  delayMs: number;
  /** Status for predictions (default 200); 4xx/5xx answers carry {"detail": ...}. */
  status: number;
  /** Reset the connection (no response byte) for this many upcoming predictions. */
  resetNext: number;
  /** Send the status line, headers and half the body, then drop the connection, for this many upcoming predictions. */
  breakOffNext: number;
  /** Stops listening and destroys every connection at once, like a killed process. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeModelServer(opts: { version: string }): Promise<FakeModelServer> {
  const sockets = new Set<Socket>();
  const fake = {
    url: '',
    port: 0,
    version: opts.version,
    predictions: 0,
    lastHeaders: undefined,
    ready: true,
    delayMs: 0,
    status: 200,
    resetNext: 0,
    breakOffNext: 0,
  } as FakeModelServer;

  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-model-version': fake.version });
    res.end(text);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/health') return json(res, 200, { status: 'ok' });
      if (req.method === 'GET' && path === '/ready') {
        return fake.ready ? json(res, 200, { status: 'ready', model_loaded: true, model_version: fake.version }) : json(res, 503, { detail: 'not ready' });
      }
      if (req.method === 'GET' && (path === '/model/info' || path === '/openapi.json')) {
        fake.lastHeaders = req.headers;
        return json(res, 200, { model_name: 'sentiment-logreg', version: fake.version, path });
      }
      if (req.method === 'POST' && (path === '/predict' || path === '/predict/explain')) {
        fake.predictions++;
        fake.lastHeaders = req.headers;
        if (fake.resetNext > 0) {
          fake.resetNext--;
          req.socket.resetAndDestroy();
          return;
        }
        if (fake.breakOffNext > 0) {
          fake.breakOffNext--;
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': 100 });
          res.write('[{"sentiment":"posi');
          setTimeout(() => req.socket.destroy(), 20);
          return;
        }
        const answer = () => {
          if (fake.status !== 200) return json(res, fake.status, { detail: `fake status ${fake.status}` });
          let texts: unknown;
          try {
            texts = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { texts?: unknown }).texts;
          } catch {
            return json(res, 400, { detail: 'Invalid JSON body' });
          }
          if (!Array.isArray(texts)) return json(res, 422, { detail: 'texts: field required' });
          json(res, 200, texts.map(() => ({ sentiment: 'positive', confidence: 0.9, probability_positive: 0.9, probability_negative: 0.1, model_version: fake.version })));
        };
        return fake.delayMs > 0 ? void setTimeout(answer, fake.delayMs) : answer();
      }
      json(res, 404, { detail: 'Not Found' });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  Object.assign(fake, { port, url: `http://127.0.0.1:${port}` });

  const stop = (abrupt: boolean) =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const s of sockets) abrupt ? s.resetAndDestroy() : s.destroy();
      server.closeAllConnections();
    });
  fake.kill = () => stop(true);
  fake.close = () => stop(false);
  return fake;
}

/** The same kind of upstream as its own process (for SIGKILL tests): answers /ready and predictions with its version. */
const PROCESS_SCRIPT = `
const http = require('node:http');
const version = process.env.FAKE_VERSION;
const server = http.createServer({ keepAliveTimeout: 65000 }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let status = 200, body;
    if (req.url === '/ready' || req.url === '/health') body = { status: 'ready', model_loaded: true, model_version: version };
    else if (req.url === '/model/info') body = { model_name: 'sentiment-logreg', version };
    else if (req.method === 'POST' && req.url.startsWith('/predict')) {
      try { body = JSON.parse(Buffer.concat(chunks).toString()).texts.map(() => ({ sentiment: 'positive', confidence: 0.9, model_version: version })); }
      catch { status = 400; body = { detail: 'Invalid JSON body' }; }
    } else { status = 404; body = { detail: 'Not Found' }; }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ event: 'serving.ready', url: 'http://127.0.0.1:' + server.address().port }) + '\\n'));
`;

export interface FakeModelServerProcess {
  readonly url: string;
  readonly version: string;
  readonly child: ChildProcess;
  /** Ends the process (SIGKILL by default) and waits for it. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnFakeModelServer(version: string): Promise<FakeModelServerProcess> {
  const child = spawn(process.execPath, ['-e', PROCESS_SCRIPT], { env: { ...process.env, FAKE_VERSION: version }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ url: (JSON.parse(line) as { url: string }).url, version, child, stop }));
    void exited.then(() => reject(new Error('fake model server process exited before listening')));
  });
}
