// Benchmark of the file-store registry on the paths servers and rollouts take: push, cold materialize (copy + verify
// into the cache), warm materialize / resolveModelDir (cache hit), alias move. Prints figures; asserts nothing.
// Usage: npm run bench:registry [-- --model DIR] [--inflate-mb N] [--iterations N]
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledModelsDir } from '../lib/paths.js';
import { MODEL_FILE, newestVersionDir } from '../models/artifact.js';
import { totalSize } from '../registry/manifest.js';
import { openRegistry } from '../registry/registry.js';
import { resolveModelDir } from '../registry/resolve-model.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const result = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, result];
}

function summary(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `median ${q(0.5).toFixed(2)} ms  p95 ${q(0.95).toFixed(2)} ms  (n=${s.length})`;
}

async function main(): Promise<void> {
  let source = arg('model');
  source ??= await newestVersionDir(bundledModelsDir());
  if (!source) {
    process.stderr.write('bench:registry: no bundled model under models/sentiment-logreg; pass --model DIR\n');
    process.exitCode = 2;
    return;
  }
  const iterations = Number(arg('iterations') ?? 30);
  const inflateMb = Number(arg('inflate-mb') ?? 0);
  const home = await mkdtemp(join(tmpdir(), 'gsg-bench-registry-'));
  try {
    const dir = join(home, 'src');
    await cp(source, dir, { recursive: true });
    if (inflateMb > 0) {
      // A bigger model.onnx (random bytes) to measure transfer throughput; metadata lists its new hash and size.
      const bytes = randomBytes(inflateMb * 1024 * 1024);
      await writeFile(join(dir, MODEL_FILE), bytes);
      const meta = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8'));
      meta.files[MODEL_FILE] = { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
      await writeFile(join(dir, 'metadata.json'), JSON.stringify(meta, null, 2));
    }
    const env = { ...process.env, GSG_HOME: join(home, 'gsg'), GSG_REGISTRY: '' };
    const registry = await openRegistry(env);
    const [pushMs, pushed] = await timed(() => registry.push(dir, { actor: 'bench' }));
    const size = totalSize(pushed.manifest.files);
    await registry.setAlias(pushed.name, 'production', pushed.version, { actor: 'bench' });
    const [coldMs] = await timed(() => registry.materialize(`${pushed.name}:production`));
    const warm: number[] = [];
    const viaResolve: number[] = [];
    for (let i = 0; i < iterations; i++) {
      warm.push((await timed(() => registry.materialize(`${pushed.name}:production`)))[0]);
      viaResolve.push((await timed(() => resolveModelDir(`${pushed.name}@${pushed.version}`, env)))[0]);
    }
    const moves: number[] = [];
    for (let i = 0; i < iterations; i++) moves.push((await timed(() => registry.setAlias(pushed.name, `bench-${i % 2}`, pushed.version, { actor: 'bench' })))[0]);
    const mb = size / 1024 / 1024;
    console.log(`registry bench (file store, ${pushed.name}@${pushed.version}, ${Object.keys(pushed.manifest.files).length} files, ${mb.toFixed(2)} MiB)`);
    console.log(`  push (hash + copy + commit):         ${pushMs.toFixed(1)} ms  (${(mb / (pushMs / 1000)).toFixed(0)} MiB/s)`);
    console.log(`  materialize cold (copy + verify):    ${coldMs.toFixed(1)} ms  (${(mb / (coldMs / 1000)).toFixed(0)} MiB/s)`);
    console.log(`  materialize warm (cache hit):        ${summary(warm)}`);
    console.log(`  resolveModelDir warm (opens registry): ${summary(viaResolve)}`);
    console.log(`  setAlias (lock + CAS + history):     ${summary(moves)}`);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

await main();
