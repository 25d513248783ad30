// The platform as tests run it: `gsg up` as a child process in a private GSG_HOME on a free port, the `gsg` CLI as
// child processes against it, extra model versions made from the bundled one, and a constant load through the router.
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledModelsDir, projectRoot } from '../../lib/paths.js';
import { listVersionDirs } from '../../models/artifact.js';
import { openRegistry } from '../../registry/registry.js';
import type { RouterStateView } from '../../router/state.js';
import { freePort } from '../model-server/helpers.js';

export const CLI = join(projectRoot(), 'dist', 'infra', 'cli', 'main.js');
export const ADMIN_TOKEN = 'platform-test-token-0123456789';

export async function bundledVersionDir(): Promise<string> {
  const versions = await listVersionDirs(bundledModelsDir());
  if (versions.length === 0) throw new Error(`no bundled model under ${bundledModelsDir()}`);
  return join(bundledModelsDir(), versions.at(-1)!);
}

export interface TestHome {
  dir: string;
  env: Record<string, string>;
  remove(): Promise<void>;
}

/** A private GSG_HOME (and HOME: registry, cache and platform state live there). */
export async function testHome(): Promise<TestHome> {
  const dir = await mkdtemp(join(tmpdir(), 'gsg-platform-'));
  return {
    dir,
    env: { GSG_HOME: dir, HOME: dir, GSG_ADMIN_TOKEN: ADMIN_TOKEN, USER: 'tester' },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `gsg <args>` to completion. */
export function gsg(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Copies the bundled version under another version string and pushes it to the home's registry. */
export async function pushVersionCopy(home: TestHome, version: string): Promise<string> {
  const src = await bundledVersionDir();
  const dir = join(home.dir, 'versions', version);
  await cp(src, dir, { recursive: true });
  const metaFile = join(dir, 'metadata.json');
  const meta = JSON.parse(await readFile(metaFile, 'utf8')) as { version: string };
  meta.version = version;
  await writeFile(metaFile, JSON.stringify(meta, null, 2));
  const registry = await openRegistry({ ...process.env, ...home.env });
  const pushed = await registry.push(dir, { actor: 'tester' });
  return `${pushed.name}@${pushed.version}`;
}

export interface PlatformProcess {
  url: string;
  port: number;
  child: ChildProcess;
  log(): string;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  state(): Promise<RouterStateView>;
  admin<T>(path: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: T }>;
}

/** Starts `gsg up` and resolves once its router answers /ready. */
export async function startPlatform(home: TestHome, opts: { port?: number; env?: Record<string, string> } = {}): Promise<PlatformProcess> {
  const port = opts.port ?? (await freePort());
  const child = spawn(process.execPath, [CLI, 'up', '--port', String(port), '--host', '127.0.0.1'], {
    env: { ...process.env, LOG_LEVEL: 'info', GSG_GRACE_MS: '5000', ...home.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gsg up exited (${child.exitCode}):\n${log}`);
    const ok = await fetch(`${url}/ready`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gsg up not ready within 60 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const admin = async <T>(path: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(`${url}/admin${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${home.env.GSG_ADMIN_TOKEN}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  return {
    url,
    port,
    child,
    log: () => log,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    state: async () => (await admin<RouterStateView>('/state')).body,
    admin,
  };
}

export interface LoadResult {
  ok: number;
  failed: number;
  failures: string[];
}

export interface Load {
  /** Requests answered so far. */
  count(): number;
  stop(): Promise<LoadResult>;
}

const TEXTS = ['el gimnasio está genial y el personal es muy amable', 'las máquinas siempre rotas y el vestuario sucio', 'buen precio, muchas clases'];

/**
 * Constant load through the router: `concurrency` loops, each sending single-text /predict requests back to back
 * (with `pauseMs` between them). Every non-200 answer and every connection error is a failure.
 */
export function startLoad(url: string, opts: { concurrency?: number; pauseMs?: number } = {}): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency ?? 4 });
  const { hostname, port } = new URL(url);
  let running = true;
  let ok = 0;
  const failures: string[] = [];
  const once = (i: number) =>
    new Promise<void>((resolve) => {
      const body = JSON.stringify({ texts: [TEXTS[i % TEXTS.length]] });
      const req = request({ hostname, port, path: '/predict', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          if (res.statusCode === 200) ok++;
          else failures.push(`${res.statusCode} ${res.headers['x-served-by'] ?? ''} ${text.slice(0, 120)}`);
          resolve();
        });
      });
      req.on('error', (err) => {
        failures.push(`error ${err.message}`);
        resolve();
      });
      req.end(body);
    });
  const loops = Array.from({ length: opts.concurrency ?? 4 }, async (_, k) => {
    for (let i = k; running; i++) {
      await once(i);
      if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  });
  return {
    count: () => ok + failures.length,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return { ok, failed: failures.length, failures };
    },
  };
}

export async function waitUntil(what: string, cond: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function productionVersion(home: TestHome, name = 'sentiment-logreg'): Promise<string | undefined> {
  return (await (await openRegistry({ ...process.env, ...home.env })).aliases(name)).production;
}
