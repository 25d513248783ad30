// Benchmark of the whole `gsg train` command (child process, as a user runs it): wall time per run, the median,
// and the median time of each stage from its progress output. Prints figures and the machine load; never asserts.
// Target: ≤ 10 s on a 2-core machine (the scikit-learn reference fits in 3.6 s).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { projectRoot } from '../lib/paths.js';
import { median } from './common.js';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const dataDir = resolve(process.env.GSG_DATA_DIR ?? join(projectRoot(), '..', 'shared', 'data', 'gym-reviews'));

function trainOnce(out: string, version: string): Promise<{ seconds: number; stages: Map<string, number>; code: number }> {
  return new Promise((done) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(projectRoot(), 'bin', 'gsg.mjs'), 'train', '--data', dataDir, '--out', out, '--model-version', version], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      const stages = new Map<string, number>();
      for (const m of stderr.matchAll(/^\[([^\]]+)\] .*\(([\d.]+)s\)$/gm)) {
        const stage = m[1]!.startsWith('fold ') ? 'folds (sum)' : m[1]!;
        stages.set(stage, (stages.get(stage) ?? 0) + Number(m[2]));
      }
      if (code !== 0) process.stderr.write(stderr);
      done({ seconds, stages, code: code ?? 1 });
    });
  });
}

const out = await mkdtemp(join(tmpdir(), 'gsg-bench-train-'));
try {
  console.log(`bench:train — ${runs} runs of \`gsg train\` on ${dataDir}`);
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const results = [];
  for (let i = 0; i < runs; i++) {
    const r = await trainOnce(out, `bench-${i + 1}`);
    if (r.code !== 0) throw new Error(`gsg train exited with ${r.code}`);
    results.push(r);
    console.log(`run ${i + 1}: ${r.seconds.toFixed(2)} s (load ${loadavg()[0]!.toFixed(2)})`);
  }
  console.log(`\ngsg train wall time: median ${median(results.map((r) => r.seconds)).toFixed(2)} s, min ${Math.min(...results.map((r) => r.seconds)).toFixed(2)} s (target ≤ 10 s)`);
  console.log('median per stage:');
  for (const stage of results[0]!.stages.keys()) console.log(`  ${stage.padEnd(12)} ${median(results.map((r) => r.stages.get(stage) ?? 0)).toFixed(2)} s`);
  console.log(`load average at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  await rm(out, { recursive: true, force: true });
}
