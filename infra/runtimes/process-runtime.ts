// ProcessRuntime, the embedded default (no Docker): each model version runs as a child process `node
// dist/model-server.mjs` (the one-file server bundle, see server-bundle.ts) on a free local port. It persists what runs to a JSON state file so an
// owner restarted after a crash adopts the instances still alive and ready (and drops or stops the others).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from '../../lib/json-file.js';
import { createLogger, type Logger } from '../../lib/log.js';
import { platformDir, projectRoot } from '../../lib/paths.js';
import { pidAlive } from '../images/file-lock.js';
import { Instance, type Runtime, type StartSpec } from '../runtime.js';
import { InstanceNotFoundError, RuntimeError, waitUntilReady } from './ready.js';
import { ensureServerBundle, SERVER_NODE_ARGS, SERVER_PROCESS_ENV, serverBundlePath, serverDistEntry } from './server-bundle.js';

/** One instance as persisted: the Instance plus what is needed to adopt and stop it later. */
const ProcessEntry = Instance.extend({
  runtime: z.literal('process'),
  pid: z.number().int().positive(),
  port: z.number().int().positive(),
  modelDir: z.string(),
  /** Per-instance log file (stdout + stderr), when logs go to files. */
  logFile: z.string().optional(),
});
type ProcessEntry = z.infer<typeof ProcessEntry>;
const ProcessState = z.object({ version: z.literal(1), instances: z.array(ProcessEntry) });

export interface ProcessRuntimeOptions {
  /** JSON state file (default $GSG_HOME/platform/runtime.json). One owner per file. */
  stateFile?: string;
  /** Child logs: 'file' (default, one file per instance in logDir), 'inherit' (the owner's stdout/stderr), 'ignore'. */
  logs?: 'file' | 'inherit' | 'ignore';
  /** Directory of per-instance log files (default: logs/ next to the state file). */
  logDir?: string;
  /** Address the servers bind (default 127.0.0.1). */
  host?: string;
  /** Server entry script (default: the one-file bundle dist/model-server.mjs, built when stale; see server-bundle.ts). */
  entry?: string;
  /** Node binary (default this process's). */
  node?: string;
  /** Grace period for stop() and the servers' GSG_GRACE_MS (default 10 s). */
  graceMs?: number;
  readyTimeoutMs?: number;
  /** /ready poll interval while starting (default 10 ms). */
  pollIntervalMs?: number;
  logger?: Logger;
}

interface Tracked {
  entry: ProcessEntry;
  /** Set for children of this owner (with their exit); adopted instances have neither. */
  child?: ChildProcess;
  exited?: Promise<void>;
  stopping?: Promise<void>;
}

const LOG_TAIL_BYTES = 2048;
const ADOPT_READY_TIMEOUT_MS = 3000;

/** Whether pid still runs a model-server entry (guards against a reused pid); true where /proc is unavailable. */
async function runsEntry(pid: number, entries: string[]): Promise<boolean> {
  try {
    const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    return entries.some((e) => args.includes(e));
  } catch {
    return !existsSync('/proc/self');
  }
}

async function untilDead(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (pidAlive(pid)) {
    if (performance.now() >= deadline) return false;
    await sleep(20);
  }
  return true;
}

export async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function logTail(file: string | undefined): Promise<string> {
  if (!file) return '';
  const text = await readFile(file, 'utf8').catch(() => '');
  const tail = text.slice(-LOG_TAIL_BYTES).trim();
  return tail ? `\n--- last lines of ${file} ---\n${tail}` : '';
}

export class ProcessRuntime implements Runtime {
  readonly kind = 'process' as const;
  readonly stateFile: string;
  private readonly opts: Required<Omit<ProcessRuntimeOptions, 'stateFile' | 'logger' | 'entry'>>;
  /** Entries a server of ours may run (for adoption): the configured one, or the bundle and the dist entry. */
  private readonly entries: string[];
  private entry?: Promise<string>;
  private readonly log: Logger;
  private readonly tracked = new Map<string, Tracked>();
  private loaded?: Promise<void>;
  private persisting = Promise.resolve();

  constructor(opts: ProcessRuntimeOptions = {}) {
    this.stateFile = opts.stateFile ?? join(platformDir(), 'runtime.json');
    this.opts = {
      logs: opts.logs ?? 'file',
      logDir: opts.logDir ?? join(dirname(this.stateFile), 'logs'),
      host: opts.host ?? '127.0.0.1',
      node: opts.node ?? process.execPath,
      graceMs: opts.graceMs ?? 10_000,
      readyTimeoutMs: opts.readyTimeoutMs ?? 30_000,
      pollIntervalMs: opts.pollIntervalMs ?? 10,
    };
    this.log = opts.logger ?? createLogger({ name: 'process-runtime' });
    this.entries = opts.entry ? [opts.entry] : [serverBundlePath(projectRoot()), serverDistEntry(projectRoot())];
    if (opts.entry) this.entry = Promise.resolve(opts.entry);
  }

  async start(spec: StartSpec): Promise<Instance> {
    await this.load();
    this.entry ??= ensureServerBundle(projectRoot(), this.log);
    const entry = await this.entry;
    if (!existsSync(entry)) throw new RuntimeError(`model server entry ${entry} is missing (run npm run build)`, { entry });
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce(spec, entry);
      } catch (err) {
        // Another process took the free port between probing and binding: try another one.
        if (attempt < 3 && err instanceof RuntimeError && /EADDRINUSE/.test(err.message)) continue;
        throw err;
      }
    }
  }

  private async startOnce(spec: StartSpec, entryScript: string): Promise<Instance> {
    const port = await freePort(this.opts.host);
    const url = `http://${this.opts.host}:${port}`;
    const startedAt = new Date();
    let logFile: string | undefined;
    let stdio: 'inherit' | 'ignore' | number = this.opts.logs === 'file' ? 'ignore' : this.opts.logs;
    let fh: Awaited<ReturnType<typeof open>> | undefined;
    if (this.opts.logs === 'file') {
      await mkdir(this.opts.logDir, { recursive: true });
      logFile = join(this.opts.logDir, `${spec.color}-${spec.version}-${startedAt.getTime()}.log`);
      fh = await open(logFile, 'a');
      stdio = fh.fd;
    }
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      NODE_ENV: 'production',
      ...SERVER_PROCESS_ENV,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      GSG_GRACE_MS: String(this.opts.graceMs),
      ...spec.env,
      GSG_MODEL: spec.modelDir,
      PORT: String(port),
      HOST: this.opts.host,
    };
    const t0 = performance.now();
    let child: ChildProcess;
    try {
      // detached: the server survives an owner crash (to be adopted) and does not get the terminal's Ctrl-C twice.
      child = spawn(this.opts.node, [...SERVER_NODE_ARGS, entryScript], { env, stdio: ['ignore', stdio, stdio], detached: true });
    } finally {
      await fh?.close();
    }
    let exitInfo: string | undefined;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = signal ? `signal ${signal}` : `code ${code}`;
        resolve();
      });
      child.once('error', (err) => {
        exitInfo = `spawn error: ${err.message}`;
        resolve();
      });
    });
    try {
      await waitUntilReady(url, {
        timeoutMs: this.opts.readyTimeoutMs,
        intervalMs: this.opts.pollIntervalMs,
        died: async () => (exitInfo ? `model server ${spec.modelName}@${spec.version} (${spec.color}) exited during start (${exitInfo})${await logTail(logFile)}` : undefined),
      });
    } catch (err) {
      if (!exitInfo) {
        child.kill('SIGKILL');
        await exited;
      }
      const msg = err instanceof RuntimeError && exitInfo ? err.message : `${(err as Error).message}${await logTail(logFile)}`;
      throw new RuntimeError(msg, { color: spec.color, version: spec.version, logFile }, err);
    }
    const coldStartSeconds = (performance.now() - t0) / 1000;
    const entry: ProcessEntry = {
      id: `proc-${child.pid}`,
      runtime: 'process',
      color: spec.color,
      modelName: spec.modelName,
      version: spec.version,
      url,
      metricsTarget: `${this.opts.host}:${port}`,
      coldStartSeconds,
      startedAt: startedAt.toISOString(),
      pid: child.pid!,
      port,
      modelDir: spec.modelDir,
      ...(logFile ? { logFile } : {}),
    };
    const tracked: Tracked = { entry, child, exited };
    this.tracked.set(entry.id, tracked);
    void exited.then(() => this.onExit(tracked, exitInfo));
    await this.persist();
    this.log.info({ event: 'runtime.ready', runtime: 'process', id: entry.id, color: spec.color, model_version: spec.version, url, cold_start_seconds: +coldStartSeconds.toFixed(3) });
    return toInstance(entry);
  }

  private onExit(t: Tracked, how: string | undefined): void {
    if (this.tracked.get(t.entry.id) !== t) return;
    if (!t.stopping) this.log.warn({ event: 'runtime.exited', runtime: 'process', id: t.entry.id, color: t.entry.color, model_version: t.entry.version, how, log_file: t.entry.logFile });
    this.tracked.delete(t.entry.id);
    void this.persist();
  }

  async stop(id: string, opts: { graceMs?: number } = {}): Promise<void> {
    await this.load();
    const t = this.tracked.get(id);
    if (!t) throw new InstanceNotFoundError(id);
    t.stopping ??= this.terminate(t, opts.graceMs ?? this.opts.graceMs);
    return t.stopping;
  }

  /** SIGTERM (the server drains), SIGKILL if it is still alive after the grace period (+1 s to exit). */
  private async terminate(t: Tracked, graceMs: number): Promise<void> {
    const { pid } = t.entry;
    this.log.info({ event: 'runtime.stop', runtime: 'process', id: t.entry.id, color: t.entry.color, model_version: t.entry.version, grace_ms: graceMs });
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    };
    signal('SIGTERM');
    const done = t.exited ? Promise.race([t.exited.then(() => true), sleep(graceMs + 1000).then(() => false)]) : untilDead(pid, graceMs + 1000);
    let clean = await done;
    if (!clean) {
      this.log.warn({ event: 'runtime.killed', runtime: 'process', id: t.entry.id, grace_ms: graceMs });
      signal('SIGKILL');
      await (t.exited ?? untilDead(pid, 5000));
    }
    if (t.child && t.child.exitCode !== 0) clean = false;
    this.tracked.delete(t.entry.id);
    await this.persist();
    // Logs of a server that drained and exited 0 are not needed; a crash's log stays for a post-mortem.
    if (clean && t.entry.logFile) await rm(t.entry.logFile, { force: true });
  }

  async list(): Promise<Instance[]> {
    await this.load();
    for (const t of [...this.tracked.values()]) {
      if (!t.child && !pidAlive(t.entry.pid)) this.onExit(t, 'gone');
    }
    return [...this.tracked.values()].map((t) => toInstance(t.entry));
  }

  /** Stops every instance this owner started or adopted. */
  async close(): Promise<void> {
    await this.load();
    await Promise.all([...this.tracked.keys()].map((id) => this.stop(id).catch(() => {})));
    await this.persisting;
  }

  /** Reads the state file once: adopts instances still alive and ready, stops unready leftovers, drops the dead. */
  private load(): Promise<void> {
    this.loaded ??= this.adopt();
    return this.loaded;
  }

  private async adopt(): Promise<void> {
    let entries: ProcessEntry[] = [];
    try {
      const state = await readJsonFile(this.stateFile, ProcessState);
      if (!state) return;
      entries = state.instances;
    } catch (err) {
      this.log.warn({ event: 'runtime.state_invalid', file: this.stateFile, err: (err as Error).message });
    }
    for (const entry of entries) {
      const ours = pidAlive(entry.pid) && (await runsEntry(entry.pid, this.entries));
      if (!ours) {
        this.log.info({ event: 'runtime.dropped', runtime: 'process', id: entry.id, reason: 'not running' });
        continue;
      }
      const t: Tracked = { entry };
      const ready = await waitUntilReady(entry.url, { timeoutMs: ADOPT_READY_TIMEOUT_MS, intervalMs: 50 }).then(
        () => true,
        () => false,
      );
      this.tracked.set(entry.id, t);
      if (ready) {
        this.log.info({ event: 'runtime.adopted', runtime: 'process', id: entry.id, color: entry.color, model_version: entry.version, url: entry.url });
      } else {
        this.log.warn({ event: 'runtime.dropped', runtime: 'process', id: entry.id, reason: 'alive but not ready: stopping it' });
        t.stopping = this.terminate(t, this.opts.graceMs);
        await t.stopping;
      }
    }
    await this.persist();
  }

  /** Writes the state file atomically; writes are serialized so the last state always wins. */
  private persist(): Promise<void> {
    this.persisting = this.persisting.then(async () => {
      const state = { version: 1 as const, instances: [...this.tracked.values()].map((t) => t.entry) };
      await writeJsonAtomic(this.stateFile, state, 0o644);
    }).catch((err: unknown) => this.log.error({ event: 'runtime.state_write_failed', file: this.stateFile, err: (err as Error).message }));
    return this.persisting;
  }
}

function toInstance(e: ProcessEntry): Instance {
  return { id: e.id, runtime: 'process', color: e.color, modelName: e.modelName, version: e.version, url: e.url, metricsTarget: e.metricsTarget, coldStartSeconds: e.coldStartSeconds, startedAt: e.startedAt };
}
