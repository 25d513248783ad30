// `npm run bench:server`: starts the real model server as the platform does — the one-file bundle
// dist/model-server.mjs in the ProcessRuntime's minimal environment (this shell's variables such as
// NODE_EXTRA_CA_CERTS, which costs node ~90 ms at start, are not passed on: neither the ProcessRuntime nor the
// image sets them) — and drives it with autocannon at 16 connections: one text per request, then 100 texts per
// request, bodies made from real val reviews (../shared when present, else a small built-in set). Prints
// requests/s, p50, p99, the server's CPU per request, its RSS (idle, peak under each load) and its start-to-ready
// time (spawn to /ready 200, and the server's own figure split into start-up and model load), for the bundle and
// for the module tree (`gsg serve`, the fallback entry); wrk's figures too when wrk exists.
// Never asserts: the targets are >= 4000 single req/s with p99 <= 10 ms, >= 250 batch-of-100 req/s,
// RSS <= 120 MB, ready <= 0.5 s.
import autocannon from 'autocannon';
import { parse } from 'csv-parse/sync';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newestVersionDir } from '../models/artifact.js';
import { bundledModelsDir, projectRoot } from '../lib/paths.js';
import { freePort } from '../infra/runtimes/process-runtime.js';
import { ensureServerBundle, SERVER_NODE_ARGS, SERVER_PROCESS_ENV, serverDistEntry } from '../infra/runtimes/server-bundle.js';
import { childReady, cpuSeconds, median } from './common.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';

/** Made-up reviews for machines without ../shared (the real val split is preferred). */
const FALLBACK_REVIEWS = [
  'Muy buen gimnasio, las instalaciones están limpias y los monitores siempre ayudan',
  'El vestuario está sucio y las duchas no tienen agua caliente casi nunca',
  'Buena relación calidad precio, aunque a las siete de la tarde está lleno',
  'Las máquinas de cardio llevan semanas rotas y nadie las arregla',
  'Clases colectivas geniales, sobre todo el spinning de los martes',
  'El personal de recepción fue muy desagradable cuando pedí la baja',
  'Amplio, luminoso y con mucho material de peso libre',
  'Me cobraron dos veces la cuota y todavía espero la devolución',
  'Horario muy amplio y buen ambiente entre los socios',
  'La música demasiado alta y el aire acondicionado no funciona',
];

function loadReviews(): string[] {
  const dir = process.env.GSG_DATA_DIR ?? join(projectRoot(), '..', 'shared', 'data', 'gym-reviews');
  const file = join(dir, 'val.csv');
  if (!existsSync(file)) {
    console.log(`reviews: ${file} not found, using ${FALLBACK_REVIEWS.length} built-in reviews`);
    return FALLBACK_REVIEWS;
  }
  const rows = parse(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true }) as { comment: string }[];
  const texts = rows.map((r) => r.comment).filter((t) => t && t.trim() && Buffer.byteLength(t) <= 5120);
  console.log(`reviews: ${texts.length} from ${file}`);
  return texts;
}

/** A `VmRSS`/`VmHWM` line of /proc/<pid>/status in MB (VmHWM = peak RSS since the process started). */
function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
const rssMb = (pid: number) => statusMb(pid, 'VmRSS');

/** The environment the ProcessRuntime gives a server (nothing inherited but PATH). */
function serverEnv(modelDir: string, port: number, logLevel: string): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', NODE_ENV: 'production', ...SERVER_PROCESS_ENV, LOG_LEVEL: logLevel, GSG_MODEL: modelDir, PORT: String(port), HOST: '127.0.0.1' };
}

interface Scenario {
  name: string;
  bodies: string[];
}

async function drive(url: string, pid: number, s: Scenario): Promise<void> {
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100);
  const cpu0 = cpuSeconds(pid);
  const result = await autocannon({
    url: `${url}/predict`,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: s.bodies.map((body) => ({ method: 'POST', path: '/predict', headers: { 'content-type': 'application/json' }, body })),
  });
  clearInterval(sampler);
  const cpuUsPerRequest = ((cpuSeconds(pid) - cpu0) * 1e6) / result.requests.total;
  const bad = result.non2xx + result.errors + result.timeouts;
  console.log(
    `${s.name.padEnd(22)} autocannon: ${result.requests.average.toFixed(0).padStart(6)} req/s  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms  ` +
      `max ${result.latency.max} ms  failed ${bad}  server RSS peak ${peak.toFixed(1)} MB (sampled), now ${rssMb(pid).toFixed(1)} MB`,
  );
  console.log(`${''.padEnd(22)} server CPU ${cpuUsPerRequest.toFixed(0)} µs per request -> at most ${(1e6 / cpuUsPerRequest).toFixed(0)} req/s per core it gets`);
}

function wrk(url: string, s: Scenario, dir: string): void {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (err) {
    // wrk --version exits 1 but prints; a missing binary throws ENOENT
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
  }
  const script = join(dir, `${s.name.replace(/\W+/g, '_')}.lua`);
  const bodies = s.bodies.slice(0, 200).map((b) => `[==[${b}]==]`).join(',\n');
  writeFileSync(
    script,
    `local bodies = {${bodies}}\nlocal i = 0\nwrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n` +
      `request = function()\n  i = i % #bodies + 1\n  return wrk.format(nil, "/predict", nil, bodies[i])\nend\n`,
  );
  const out = execFileSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${DURATION_S}s`, '--latency', '-s', script, url], { encoding: 'utf8' });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
  const p50 = /^\s+50%\s+(\S+)/m.exec(out)?.[1];
  const p99 = /^\s+99%\s+(\S+)/m.exec(out)?.[1];
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
  console.log(`${s.name.padEnd(22)} wrk:        ${Number(rps).toFixed(0).padStart(6)} req/s  p50 ${p50}  p99 ${p99}  non-2xx ${non2xx}`);
}

interface ReadyRuns {
  /** Spawn to the first 200 on /ready, as a runtime polling every 5 ms sees it. */
  spawnMs: number[];
  /** The server's gsg_server_start_to_ready_seconds: process start (performance.timeOrigin) to ready. */
  reportedMs: number[];
  /** Of that, the model load (serving.ready load_ms: verify model.onnx, open the session, warm up). */
  loadMs: number[];
  /** RSS when ready. */
  rssMb: number[];
}

/** Starts a server entry `runs` times (in the ProcessRuntime's minimal environment) and measures each start. */
async function measureReady(entry: string, modelDir: string, runs: number): Promise<ReadyRuns> {
  const out: ReadyRuns = { spawnMs: [], reportedMs: [], loadMs: [], rssMb: [] };
  for (let i = 0; i < runs; i++) {
    const port = await freePort('127.0.0.1');
    const url = `http://127.0.0.1:${port}`;
    const t0 = performance.now();
    const child = spawn(process.execPath, [...SERVER_NODE_ARGS, entry], { env: serverEnv(modelDir, port, 'info'), stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    try {
      await childReady(url, child, 5);
      out.spawnMs.push(performance.now() - t0);
      out.rssMb.push(rssMb(child.pid!));
      const metrics = await (await fetch(`${url}/metrics`)).text();
      out.reportedMs.push(Number(/gsg_server_start_to_ready_seconds\{[^}]*\} ([\d.e-]+)/.exec(metrics)?.[1]) * 1000);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    const ready = stdout.split('\n').find((l) => l.includes('"serving.ready"'));
    out.loadMs.push(ready ? Number((JSON.parse(ready) as { load_ms: number }).load_ms) : NaN);
  }
  return out;
}

const summary = (xs: number[]) => `min ${Math.min(...xs).toFixed(0)} ms, median ${median(xs).toFixed(0)} ms`;

function printReady(label: string, r: ReadyRuns): void {
  const startUp = r.reportedMs.map((ms, i) => ms - r.loadMs[i]!);
  console.log(
    `start to ready, ${label}: spawn→/ready 200 ${summary(r.spawnMs)}; server-reported ${summary(r.reportedMs)} ` +
      `(median ${median(startUp).toFixed(0)} ms node + modules + listen, ${median(r.loadMs).toFixed(0)} ms model load); RSS at ready ${median(r.rssMb).toFixed(1)} MB (${r.spawnMs.length} runs)`,
  );
}

async function main(): Promise<void> {
  const version = process.env.BENCH_MODEL ?? (await newestVersionDir(bundledModelsDir()));
  if (!version) throw new Error(`no bundled model under ${bundledModelsDir()}`);
  const reviews = loadReviews();
  const single: Scenario = { name: 'single text', bodies: reviews.slice(0, 500).map((t) => JSON.stringify({ texts: [t] })) };
  const batch: Scenario = {
    name: 'batch of 100',
    bodies: Array.from({ length: 20 }, (_, i) => JSON.stringify({ texts: Array.from({ length: 100 }, (_, j) => reviews[(i * 100 + j) % reviews.length]!) })),
  };

  const port = await freePort('127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  const entry = await ensureServerBundle(projectRoot());
  console.log(
    `server: node ${entry} (as the ProcessRuntime starts it; the image runs the same bundle) with GSG_MODEL=${version}, ` +
      `LOG_LEVEL=${LOG_LEVEL} (logs discarded), nothing else from this environment${process.env.NODE_EXTRA_CA_CERTS ? ' (NODE_EXTRA_CA_CERTS not passed on)' : ''}; ` +
      `${CONNECTIONS} connections, ${DURATION_S} s per run; load ${readFileSync('/proc/loadavg', 'utf8').trim()}`,
  );
  const tmp = mkdtempSync(join(tmpdir(), 'gsg-bench-'));
  const readyRuns = Number(process.env.BENCH_READY_RUNS ?? 7);
  printReady('bundle (ProcessRuntime, image)', await measureReady(entry, version, readyRuns));
  printReady('module tree (gsg serve, fallback entry)', await measureReady(serverDistEntry(projectRoot()), version, readyRuns));

  const t0 = performance.now();
  const child = spawn(process.execPath, [...SERVER_NODE_ARGS, entry], { env: serverEnv(version, port, LOG_LEVEL), stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await childReady(url, child, 5);
    const readyMs = performance.now() - t0;
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const reported = /gsg_server_start_to_ready_seconds\{[^}]*\} ([\d.e-]+)/.exec(metrics)?.[1];
    await new Promise((r) => setTimeout(r, 1000));
    console.log(`load-test server: ready ${readyMs.toFixed(0)} ms after spawn (server reports ${reported ? (Number(reported) * 1000).toFixed(0) : '?'} ms); idle RSS ${rssMb(child.pid!).toFixed(1)} MB 1 s after ready`);
    for (const s of [single, batch]) {
      // Warm the connections and the JIT so the first run is not measured cold.
      await autocannon({ url: `${url}/predict`, connections: CONNECTIONS, duration: 2, requests: s.bodies.slice(0, 20).map((body) => ({ method: 'POST', body, headers: { 'content-type': 'application/json' } })) });
      await drive(url, child.pid!, s);
      wrk(url, s, tmp);
      console.log(`  (peak RSS since start (VmHWM) ${statusMb(child.pid!, 'VmHWM').toFixed(1)} MB; load average after: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
