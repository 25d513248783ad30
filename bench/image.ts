// `npm run bench:image`: builds (or reuses) the newest bundled version's image from the offline base images, then
// prints its size and layer sizes, the cold start of the DockerRuntime (container create -> first 200 on /ready) and
// of the ProcessRuntime (spawn -> first 200), median/min/max over BENCH_RUNS (5) starts each, and the machine's load.
// Never asserts. Targets: image <= 200 MB (stretch 160 MB), container cold start median <= 1.5 s, process <= 1 s.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../lib/log.js';
import { bundledModelsDir } from '../lib/paths.js';
import { newestVersionDir, readMetadata } from '../models/artifact.js';
import { BASE_IMAGE_TAGS } from '../infra/base-image/base-image.js';
import { buildModelImage } from '../infra/images/build-image.js';
import { connectDocker } from '../infra/images/docker.js';
import type { Instance, Runtime, StartSpec } from '../infra/runtime.js';
import { DockerRuntime } from '../infra/runtimes/docker-runtime.js';
import { ProcessRuntime } from '../infra/runtimes/process-runtime.js';
import { cpuSeconds, median } from './common.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MB = 1e6;
const quiet = createLogger({ name: 'bench-image', level: 'silent' });

const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

/** CPU seconds the server used until it was ready: less sensitive to the machine's load than the wall time. */
async function serverCpuSeconds(inst: Instance): Promise<number> {
  if (inst.runtime === 'process') {
    return cpuSeconds(Number(inst.id.replace('proc-', '')));
  }
  const stats = (await connectDocker().getContainer(inst.id).stats({ stream: false })) as { cpu_stats: { cpu_usage: { total_usage: number } } };
  return stats.cpu_stats.cpu_usage.total_usage / 1e9;
}

async function coldStarts(rt: Runtime, spec: StartSpec): Promise<{ wall: number[]; cpu: number[] }> {
  const out = { wall: [] as number[], cpu: [] as number[] };
  try {
    for (let i = 0; i < RUNS; i++) {
      const inst = await rt.start(spec);
      out.wall.push(inst.coldStartSeconds);
      out.cpu.push(await serverCpuSeconds(inst));
      await rt.stop(inst.id);
    }
  } finally {
    await rt.close();
  }
  return out;
}

function report(label: string, { wall, cpu }: { wall: number[]; cpu: number[] }, target: number): void {
  const m = median(wall);
  console.log(`${label}: median ${m.toFixed(3)} s (min ${Math.min(...wall).toFixed(3)}, max ${Math.max(...wall).toFixed(3)}; ${wall.map((x) => x.toFixed(3)).join(', ')})  target <= ${target} s: ${verdict(m <= target)}`);
  console.log(`  server CPU time until ready: median ${median(cpu).toFixed(3)} s (${cpu.map((x) => x.toFixed(3)).join(', ')})`);
}

const modelDir = await newestVersionDir(bundledModelsDir());
if (!modelDir) throw new Error(`no model version under ${bundledModelsDir()}`);
const meta = await readMetadata(modelDir);
const spec: StartSpec = { color: 'blue', modelName: meta.model_name, version: meta.version, modelDir };
const docker = connectDocker();
const home = mkdtempSync(join(tmpdir(), 'gsg-bench-image-'));

try {
  console.log(`machine: load average ${load()} on ${cpus().length} cores (shared with other work: wall times are noisy, CPU times less so)`);
  const record = await buildModelImage(modelDir, { docker, baseImage: BASE_IMAGE_TAGS.build, runtimeBaseImage: BASE_IMAGE_TAGS.runtime, home, onLine: () => {} });
  console.log(`image ${record.image} ${record.reused ? '(reused: unchanged)' : `(built in ${record.buildSeconds.toFixed(1)} s)`}`);
  console.log(`size: ${(record.sizeBytes / MB).toFixed(1)} MB  target <= 200 MB: ${verdict(record.sizeBytes <= 200 * MB)}, stretch <= 160 MB: ${verdict(record.sizeBytes <= 160 * MB)}`);
  const history = (await docker.getImage(record.image).history()) as { Size: number; CreatedBy: string }[];
  for (const layer of history.filter((h) => h.Size > 0)) {
    console.log(`  layer ${(layer.Size / MB).toFixed(1).padStart(6)} MB  ${layer.CreatedBy.replace(/^\/bin\/sh -c (#\(nop\) )?/, '').slice(0, 90)}`);
  }

  const owner = `gsg-bench-${process.pid}`;
  const dockerTimes = await coldStarts(new DockerRuntime({ docker, owner, network: owner, logger: quiet, build: { docker, home } }), spec);
  report(`container cold start (create -> first 200 on /ready, ${RUNS} runs)`, dockerTimes, 1.5);
  await docker.getNetwork(owner).remove().catch(() => {});

  const processTimes = await coldStarts(new ProcessRuntime({ stateFile: join(home, 'runtime.json'), logger: quiet }), spec);
  report(`process cold start (spawn -> first 200 on /ready, ${RUNS} runs)`, processTimes, 1);
  console.log(`load average after: ${load()}`);
} finally {
  rmSync(home, { recursive: true, force: true });
}
