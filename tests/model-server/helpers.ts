// Shared by the model-server tests: an in-process server on the test model and a free loopback port, and a
// model-server child process with its JSON log lines collected.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths.js';
import { freePort as freePortOn } from '../../infra/runtimes/process-runtime.js';
import { loadServerConfig } from '../../services/model-server/src/config.js';
import { startServer, type ServerDeps, type ServerHandle } from '../../services/model-server/src/server.js';
import { captureLogger, type LogLine } from '../helpers/logs.js';
import { testModelDir } from '../helpers/models.js';

export type { LogLine };

export const SERVER_ENTRY = join(projectRoot(), 'dist', 'services', 'model-server', 'src', 'main.js');

export interface TestServer extends ServerHandle {
  lines: LogLine[];
}

/** Starts a server in this process on 127.0.0.1:<free port> with the bundled model, waits until ready. */
export async function startTestServer(env: Record<string, string> = {}, deps: ServerDeps = {}, opts: { waitReady?: boolean; logLevel?: 'debug' | 'info' | 'warn' } = {}): Promise<TestServer> {
  const config = loadServerConfig({ GSG_MODEL: await testModelDir(), PORT: '0', HOST: '127.0.0.1', ...env });
  const { lines, logger } = captureLogger('model-server-test', opts.logLevel ?? 'info');
  const handle = await startServer(config, { logger, ...deps });
  if (opts.waitReady !== false) await handle.ready;
  return { ...handle, lines };
}

/** A free port on 127.0.0.1. */
export const freePort = () => freePortOn('127.0.0.1');

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  lines: LogLine[];
  stderr(): string;
  /** Resolves with the first log line matching, or rejects when the process exits first. */
  waitForLog(pred: (l: LogLine) => boolean): Promise<LogLine>;
  exited: Promise<number | null>;
  kill(): Promise<void>;
}

/** Runs a command (default: the model-server entry) as a child process with the given environment. */
export async function spawnServer(env: Record<string, string>, args: string[] = [SERVER_ENTRY]): Promise<ServerProcess> {
  const port = env.PORT ?? String(await freePort());
  const child = spawn(process.execPath, args, { env: { ...process.env, PORT: port, HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: LogLine[] = [];
  let out = '';
  let err = '';
  const waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void; reject: (e: Error) => void }[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    let nl: number;
    while ((nl = out.indexOf('\n')) !== -1) {
      const text = out.slice(0, nl);
      out = out.slice(nl + 1);
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue;
      }
      lines.push(line);
      for (const w of [...waiters]) if (w.pred(line)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(line));
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then((code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`process exited (${code}) first; stderr: ${err}`));
  });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    lines,
    stderr: () => err,
    waitForLog(pred) {
      const found = lines.find(pred);
      if (found) return Promise.resolve(found);
      if (child.exitCode !== null) return Promise.reject(new Error(`process exited (${child.exitCode}) first; stderr: ${err}`));
      return new Promise((resolve, reject) => waiters.push({ pred, resolve, reject }));
    },
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** A response body as JSON, loosely typed for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const body = async (r: Response): Promise<any> => r.json();
