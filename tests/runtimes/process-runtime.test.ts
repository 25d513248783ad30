// ProcessRuntime: the shared runtime behaviour with real model-server child processes, plus what only it does: the
// JSON state file, adoption by an owner restarted after a crash, and a clear error when a server dies while starting.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log.js';
import { projectRoot } from '../../lib/paths.js';
import { ProcessRuntime, type ProcessRuntimeOptions } from '../../infra/runtimes/process-runtime.js';
import { readyStatus, RuntimeError } from '../../infra/runtimes/ready.js';
import type { Instance } from '../../infra/runtime.js';
import { captureLogger } from '../helpers/logs.js';
import { bundledModel, type BundledModel } from '../images/fixtures.js';
import { runtimeBehaviour } from './runtime-behaviour.js';

const quiet = createLogger({ name: 'process-runtime-test', level: 'silent' });

let tmp: string;
let model: BundledModel;
let n = 0;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gsg-process-runtime-'));
  model = await bundledModel();
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const newRuntime = (opts: ProcessRuntimeOptions = {}) => new ProcessRuntime({ stateFile: join(tmp, `state-${++n}`, 'runtime.json'), logger: quiet, ...opts });
const specOf = (m: BundledModel) => ({ modelName: m.name, version: m.version, modelDir: m.dir });
const readState = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as { instances: (Instance & { pid: number })[] };

describe('ProcessRuntime: runtime behaviour', () => {
  runtimeBehaviour(async () => ({ runtime: newRuntime(), spec: specOf(model) }));
});

describe('ProcessRuntime: state file and adoption', () => {
  it('persists running instances to its state file and removes them when they stop', async () => {
    const rt = newRuntime();
    try {
      const blue = await rt.start({ ...specOf(model), color: 'blue' });
      const state = await readState(rt.stateFile);
      expect(state.instances).toEqual([expect.objectContaining({ id: blue.id, url: blue.url, color: 'blue', version: model.version, coldStartSeconds: blue.coldStartSeconds })]);
      await rt.stop(blue.id);
      expect((await readState(rt.stateFile)).instances).toEqual([]);
    } finally {
      await rt.close();
    }
  });

  it('an owner restarted after a crash adopts the servers still ready and drops dead entries', async () => {
    const stateFile = join(tmp, 'crash', 'runtime.json');
    // The first owner: a separate process that starts a server, prints it, and is then killed without cleanup.
    const code = `
      const { ProcessRuntime } = await import(${JSON.stringify(join(projectRoot(), 'dist/infra/runtimes/process-runtime.js'))});
      const rt = new ProcessRuntime({ stateFile: ${JSON.stringify(stateFile)}, logs: 'ignore' });
      const i = await rt.start(${JSON.stringify({ ...specOf(model), color: 'blue' })});
      console.log(JSON.stringify(i));`;
    const owner = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'silent' } });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: owner.stdout! }).once('line', resolve);
      owner.once('exit', (c) => reject(new Error(`owner exited with ${c} before starting a server`)));
    });
    const started = JSON.parse(line) as Instance;
    owner.kill('SIGKILL');
    await new Promise((r) => owner.once('exit', r));
    expect(await readyStatus(started.url)).toBe(200); // the server outlived its crashed owner

    // A dead entry next to it: a process that has exited.
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.once('exit', r));
    const state = await readState(stateFile);
    await writeFile(stateFile, JSON.stringify({ ...state, instances: [...state.instances, { ...state.instances[0]!, id: `proc-${dead.pid}`, pid: dead.pid, color: 'green' }] }));

    const restarted = new ProcessRuntime({ stateFile, logger: quiet });
    expect(await restarted.list()).toEqual([started]);
    expect((await readState(stateFile)).instances.map((i) => i.id)).toEqual([started.id]);
    await restarted.close();
    expect(await readyStatus(started.url)).toBeUndefined();
    expect((await readState(stateFile)).instances).toEqual([]);
  });
});

describe('ProcessRuntime: failures', () => {
  it('a corrupt state file is logged and replaced, never fatal', async () => {
    const stateFile = join(tmp, 'corrupt', 'runtime.json');
    await mkdir(join(tmp, 'corrupt'), { recursive: true });
    await writeFile(stateFile, '{"version": 1, "instances": [{"id": 42}]}');
    const { lines, logger } = captureLogger('process-runtime-test');
    const rt = new ProcessRuntime({ stateFile, logger });
    expect(await rt.list()).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ event: 'runtime.state_invalid', file: stateFile }));
    expect(await readState(stateFile)).toEqual({ version: 1, instances: [] });
    await rt.close();
  });

  it('a server that exits while starting fails start with its exit and last log lines, leaving nothing behind', async () => {
    const rt = newRuntime();
    const notAModel = await mkdtemp(join(tmp, 'not-a-model-'));
    const err = await rt.start({ modelName: model.name, version: model.version, modelDir: notAModel, color: 'blue' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as Error).message).toMatch(/exited during start \(code [1-9]\d*\)/);
    expect((err as Error).message).toContain('metadata.json');
    expect(await rt.list()).toEqual([]);
    expect(existsSync(rt.stateFile) ? (await readState(rt.stateFile)).instances : []).toEqual([]);
    await rt.close();
  });

  it('refuses to start when the compiled server entry is missing, naming it', async () => {
    const rt = newRuntime({ entry: join(tmp, 'missing', 'main.js') });
    await expect(rt.start({ ...specOf(model), color: 'blue' })).rejects.toThrow(/missing\/main\.js is missing \(run npm run build\)/);
  });
});
