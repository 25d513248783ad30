// The platform as tests run it: `gsg up` as a child process in a private GSG_HOME on a free port, the `gsg` CLI as
// child processes against it, and extra model versions made from the bundled one.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../infra/runtimes/process-runtime.js';
import { waitUntilReady } from '../../infra/runtimes/ready.js';
import type { CommandResult } from '../../infra/stack/compose.js';
import { openRegistry } from '../../registry/registry.js';
import type { RouterStateView } from '../../router/state.js';
import { CLI, runGsg } from './cli.js';
import { bundledVersionDir, copyVersionAs } from './models.js';

export const ADMIN_TOKEN = 'platform-test-token-0123456789';

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

/** Runs `gsg <args>` to completion against a test home (LOG_LEVEL warn unless `env` says otherwise). */
export function gsg(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<CommandResult> {
  return runGsg(args, { LOG_LEVEL: 'warn', ...env }, { timeoutMs });
}

/** Copies the bundled version under another version string and pushes it to the home's registry. */
export async function pushVersionCopy(home: TestHome, version: string): Promise<string> {
  const dir = await copyVersionAs(await bundledVersionDir(), join(home.dir, 'versions', version), version);
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
  const port = opts.port ?? (await freePort('127.0.0.1'));
  const child = spawn(process.execPath, [CLI, 'up', '--port', String(port), '--host', '127.0.0.1'], {
    env: { ...process.env, LOG_LEVEL: 'info', GSG_GRACE_MS: '5000', ...home.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(url, {
      timeoutMs: 60_000,
      intervalMs: 100,
      died: () => (child.exitCode !== null || child.signalCode !== null ? `gsg up exited (${child.exitCode ?? child.signalCode})` : undefined),
    });
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}:\n${log}`);
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

export async function productionVersion(home: TestHome, name = 'sentiment-logreg'): Promise<string | undefined> {
  return (await (await openRegistry({ ...process.env, ...home.env })).aliases(name)).production;
}
