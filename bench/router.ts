// `npm run bench:router`: what the router costs. Starts a real model server (production entry, newest bundled
// model; BENCH_UPSTREAM=trivial for a fixed-answer HTTP server instead) and `gsg router` in front of it, each as
// its own process, then drives single-text POST /predict at 16 connections, alternating direct and routed runs
// (ABBA, so drift on a shared machine hits both). Prints requests/s, p50 and p99 per run, the median of the
// per-round routed/direct ratios, the median added p50, and the CPU time per request of the router and of the upstream (from /proc: a figure that stays
// meaningful when other work shares the 2 cores, unlike req/s). Target: routed >= 70% of direct req/s, <= 1 ms
// added p50. Load generator: wrk (µs latencies) when installed, else autocannon (1 ms resolution);
// BENCH_LOADGEN=autocannon|wrk forces one. BENCH_CPU_PROF=<dir> writes a --cpu-prof of the router there.
import autocannon from 'autocannon';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { bundledModelsDir, projectRoot } from '../lib/paths.js';
import { newestVersionDir } from '../models/artifact.js';
import { childReady, cpuSeconds, median } from './common.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const TEXTS = [
  'Muy buen gimnasio, las instalaciones están limpias y los monitores siempre ayudan',
  'El vestuario está sucio y las duchas no tienen agua caliente casi nunca',
  'Las máquinas de cardio llevan semanas rotas y nadie las arregla',
  'Clases colectivas geniales, sobre todo el spinning de los martes',
];
const BODY = JSON.stringify({ texts: [TEXTS[0]] });

interface Run {
  rps: number;
  p50ms: number;
  p99ms: number;
  failed: number;
}

/** Starts a process and resolves with the URL from the first JSON log line carrying `event` and `url`. */
function startLogged(args: string[], env: Record<string, string>, event: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolveStart, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const rec = JSON.parse(line) as { event?: string; url?: string };
        if (rec.event === event && rec.url) resolveStart({ child, url: rec.url });
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code} before ${event}`)));
  });
}

/** The trivial upstream: answers every request with a fixed prediction (the wrk baseline's kind of server). */
const TRIVIAL_SERVER = `
const http = require('node:http');
const body = JSON.stringify([{ sentiment: 'positive', confidence: 0.9, probability_positive: 0.9, probability_negative: 0.1, model_version: 'trivial' }]);
const ready = JSON.stringify({ status: 'ready', model_loaded: true, model_version: 'trivial' });
const s = http.createServer({ keepAliveTimeout: 65000 }, (req, res) => {
  req.resume();
  req.on('end', () => {
    const b = req.url === '/ready' ? ready : body;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) });
    res.end(b);
  });
});
s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ event: 'serving.ready', url: 'http://127.0.0.1:' + s.address().port })));
`;

async function startUpstream(): Promise<{ child: ChildProcess; url: string; version: string; what: string }> {
  if (process.env.BENCH_UPSTREAM === 'trivial') {
    const { child, url } = await startLogged(['-e', TRIVIAL_SERVER], {}, 'serving.ready');
    return { child, url, version: 'trivial', what: 'trivial node:http upstream (fixed answer)' };
  }
  const modelDir = process.env.BENCH_MODEL ? resolve(process.env.BENCH_MODEL) : await newestVersionDir(bundledModelsDir());
  if (!modelDir) throw new Error(`no bundled model under ${bundledModelsDir()} (set BENCH_MODEL=<version dir> or BENCH_UPSTREAM=trivial)`);
  const meta = JSON.parse(readFileSync(join(modelDir, 'metadata.json'), 'utf8')) as { version: string };
  const entry = join(projectRoot(), 'dist', 'services', 'model-server', 'src', 'main.js');
  const { child, url } = await startLogged([entry], { GSG_MODEL: modelDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' }, 'serving.start');
  await childReady(url, child, 20);
  return { child, url, version: meta.version, what: `model server ${meta.version} (${modelDir})` };
}

function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT'; // wrk --version exits 1
  }
}

/** wrk's latency figures ("812.00us", "1.20ms", "2.01s") in milliseconds. */
function wrkMs(text: string | undefined): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text ?? '');
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
}

function runWrk(url: string, script: string, seconds: number): Run {
  const out = execFileSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', script, `${url}/predict`], { encoding: 'utf8' });
  const failed = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + Number(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)?.slice(1).reduce((a, b) => a + Number(b), 0) ?? 0);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]), p50ms: wrkMs(/ 50%\s+(\S+)/.exec(out)?.[1]), p99ms: wrkMs(/ 99%\s+(\S+)/.exec(out)?.[1]), failed };
}

async function runAutocannon(url: string, seconds: number): Promise<Run> {
  const r = await autocannon({ url: `${url}/predict`, connections: CONNECTIONS, duration: seconds, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
  return { rps: r.requests.average, p50ms: r.latency.p50, p99ms: r.latency.p99, failed: r.non2xx + r.errors + r.timeouts };
}

const fmt = (r: Run) => `${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50ms.toFixed(2)} ms  p99 ${r.p99ms.toFixed(2)} ms  failed ${r.failed}`;

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'gsg-bench-router-'));
  const children: ChildProcess[] = [];
  try {
    const upstream = await startUpstream();
    children.push(upstream.child);
    const routerArgs = [join(projectRoot(), 'dist', 'infra', 'cli', 'main.js'), 'router', '--host', '127.0.0.1', '--port', '0', '--state', join(tmp, 'router.json'), '--blue', upstream.url, '--blue-version', upstream.version];
    const profDir = process.env.BENCH_CPU_PROF;
    const router = await startLogged(profDir ? ['--cpu-prof', '--cpu-prof-dir', resolve(profDir), ...routerArgs] : routerArgs, { LOG_LEVEL: 'info', GSG_ADMIN_TOKEN: 'bench-token' }, 'router.listening');
    children.push(router.child);

    const useWrk = process.env.BENCH_LOADGEN ? process.env.BENCH_LOADGEN === 'wrk' : hasWrk();
    const script = join(tmp, 'predict.lua');
    writeFileSync(script, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [==[${BODY}]==]\n`);
    const drive = (url: string, seconds: number) => (useWrk ? Promise.resolve(runWrk(url, script, seconds)) : runAutocannon(url, seconds));

    console.log(`upstream: ${upstream.what}`);
    console.log(`router: gsg router (LOG_LEVEL=info: no per-request lines), blue = the upstream at weight 100`);
    console.log(`load: ${useWrk ? 'wrk -t1' : 'autocannon'}, ${CONNECTIONS} connections, single-text POST /predict, ${DURATION_S} s per run, ${ROUNDS} rounds direct/routed; loadavg before ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
    await drive(upstream.url, 2); // warm-up: JIT, connections
    await drive(router.url, 2);

    const direct: Run[] = [];
    const routed: Run[] = [];
    const cpu = { direct: 0, routed: 0 };
    const requests = { direct: 0, routed: 0 };
    /** One load run against `url`, charging the CPU time of `pid` (the process that serves it first) to `kind`. */
    const measure = async (round: number, kind: 'direct' | 'routed', url: string, pid: number) => {
      const cpu0 = cpuSeconds(pid);
      const run = await drive(url, DURATION_S);
      cpu[kind] += cpuSeconds(pid) - cpu0;
      requests[kind] += run.rps * DURATION_S;
      (kind === 'direct' ? direct : routed).push(run);
      console.log(`round ${round} ${kind}  ${fmt(run)}`);
    };
    // ABBA order (direct first in odd rounds, routed first in even ones), so a drift in the VM's speed over a run
    // hits both sides alike; each round's ratio compares two adjacent runs.
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? (['direct', 'routed'] as const) : (['routed', 'direct'] as const);
      for (const kind of order) await (kind === 'direct' ? measure(round, kind, upstream.url, upstream.child.pid!) : measure(round, kind, router.url, router.child.pid!));
    }
    const ratios = routed.map((r, i) => r.rps / direct[i]!.rps);
    const ratio = median(ratios);
    const addedP50 = median(routed.map((r, i) => r.p50ms - direct[i]!.p50ms));
    console.log(`per-round routed/direct: ${ratios.map((r) => `${(r * 100).toFixed(0)}%`).join(' ')}`);
    console.log(
      `median: routed/direct ${(ratio * 100).toFixed(1)}% of requests/s (target >= 70%), added p50 ${addedP50.toFixed(2)} ms (target <= 1 ms), ` +
        `CPU per request: router ${((cpu.routed / requests.routed) * 1e6).toFixed(1)} µs, upstream (direct runs) ${((cpu.direct / requests.direct) * 1e6).toFixed(1)} µs; ` +
        `loadavg after ${readFileSync('/proc/loadavg', 'utf8').trim()}`,
    );
  } finally {
    for (const c of children.reverse()) {
      c.kill('SIGTERM');
      await new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)));
    }
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
