// The router in front of two real model servers (the production entry, as child processes, on the bundled model
// and a copy of it under another version): weighted split, labels matching what served, model-server errors
// passed through, and a model server SIGKILLed under load without a failed client request.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntilReady } from '../../infra/runtimes/ready.js';
import { startLoad } from '../helpers/load.js';
import { copyVersionAs, testModelDir } from '../helpers/models.js';
import { until } from '../helpers/wait.js';
import { spawnServer, type ServerProcess } from '../model-server/helpers.js';
import { call, startRouter, type RouterUnderTest } from './harness.js';

const GREEN_VERSION = '2099-12-31.001';
let tmp: string;
let blueVersion: string;
let blue: ServerProcess;
let green: ServerProcess;
let rt: RouterUnderTest;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gsg-router-ms-'));
  const blueDir = await testModelDir();
  blueVersion = (JSON.parse(await readFile(join(blueDir, 'metadata.json'), 'utf8')) as { version: string }).version;
  const greenDir = await copyVersionAs(blueDir, join(tmp, GREEN_VERSION), GREEN_VERSION);
  [blue, green] = await Promise.all([spawnServer({ GSG_MODEL: blueDir, LOG_LEVEL: 'warn' }), spawnServer({ GSG_MODEL: greenDir, LOG_LEVEL: 'warn' })]);
  await Promise.all(
    [blue, green].map((s) =>
      waitUntilReady(s.url, { timeoutMs: 30_000, intervalMs: 20, died: () => (s.child.exitCode === null ? undefined : `model server exited (${s.child.exitCode}): ${s.stderr()}`) }),
    ),
  );
  rt = await startRouter();
  await rt.router.setUpstream('blue', { url: blue.url, version: blueVersion });
  await rt.router.setUpstream('green', { url: green.url, version: GREEN_VERSION });
});

afterAll(async () => {
  await rt?.close();
  await Promise.all([blue?.kill(), green?.kill()]);
  await rm(tmp, { recursive: true, force: true });
});

describe('router in front of real model servers', () => {
  it('splits 2,000 predictions 90/10 within ±3%, each labelled with the version that answered', async () => {
    await rt.router.setWeights({ blue: 90, green: 10 });
    const versionOf = { blue: blueVersion, green: GREEN_VERSION } as Record<string, string>;
    const { failures, served } = await startLoad(rt.url, {
      total: 2000,
      inspect: ({ headers, body }) => {
        const version = (JSON.parse(body) as Array<{ model_version: string }>)[0]!.model_version;
        const color = String(headers['x-served-by']);
        return version === versionOf[color] && headers['x-model-version'] === version ? undefined : `${color} answered ${version} (header ${headers['x-model-version']})`;
      },
    }).done;
    expect(failures).toEqual([]);
    expect(served.blue! + served.green!).toBe(2000);
    expect(Math.abs(served.green! / 2000 - 0.1)).toBeLessThanOrEqual(0.03);
  });

  it('passes the model server’s own 4xx answers through untouched', async () => {
    const empty = await call(`${rt.url}/predict`, { json: { texts: ['ok', '   '] } });
    expect(empty.status).toBe(422);
    expect(empty.body.detail).toMatch(/index 1/);
    const tooMany = await call(`${rt.url}/predict`, { json: { texts: Array(101).fill('x') } });
    expect(tooMany.status).toBe(422);
    const notJson = await call(`${rt.url}/predict`, { body: 'texts=hola', headers: { 'content-type': 'text/plain' } });
    expect(notJson.status).toBe(415);
  });

  it('answers /model/info and /predict/explain from the pinned color', async () => {
    const info = await call(`${rt.url}/model/info`, { headers: { 'x-gsg-color': 'green' } });
    expect(info.body.version).toBe(GREEN_VERSION);
    const explain = await call(`${rt.url}/predict/explain`, { json: { texts: ['el vestuario está sucio'], top_k: 3 }, headers: { 'x-gsg-color': 'blue' } });
    expect(explain.status).toBe(200);
    expect(explain.body[0].explanation).toHaveLength(3);
  });

  it('loses no client request when a model server is SIGKILLed under load', async () => {
    await rt.router.setWeights({ blue: 50, green: 50 });
    const load = startLoad(rt.url, { connections: 16 });
    await until(() => (load.result.served.green ?? 0) >= 200, 'green serving under load', 30_000);
    await green.kill();
    await until(() => (load.result.served.blue ?? 0) >= (load.result.served.green ?? 0) + 500, 'blue serving alone', 30_000);
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect(rt.router.getState().green.ready).toBe(false);
  });
});
