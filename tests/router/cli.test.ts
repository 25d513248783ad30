// `gsg router` as a real child process: flags point the colors, the admin token comes from the environment,
// SIGTERM drains and exits 0, and a restart restores the split from the state file.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { call, predict } from './harness.js';

const GSG = join(import.meta.dirname, '..', '..', 'bin', 'gsg.mjs');
const TOKEN = 'cli-test-token-93ab0e';

let blue: FakeModelServer;
let green: FakeModelServer;
let dir: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  blue = await startFakeModelServer({ version: '2026-03-01.001' });
  green = await startFakeModelServer({ version: '2026-03-02.001' });
  dir = await mkdtemp(join(tmpdir(), 'gsg-router-cli-'));
});
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});
afterAll(async () => {
  await blue.close();
  await green.close();
  await rm(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  url: string;
  exit: Promise<{ code: number | null; stderr: string }>;
}

/** Starts `gsg router` and resolves when its `router.listening` log line gives the URL. */
function startCli(args: string[], env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, [GSG, 'router', '--host', '127.0.0.1', '--port', '0', ...args], {
    env: { ...process.env, GSG_HOME: dir, GSG_ADMIN_TOKEN: TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const rec = JSON.parse(line) as { event?: string; url?: string };
      if (rec.event === 'router.listening') resolve({ child, url: rec.url!, exit });
    });
    void exit.then(({ code, stderr: err }) => reject(new Error(`gsg router exited ${code} before listening: ${err}`)));
  });
}

describe('gsg router', () => {
  it('routes to the upstreams given by flags, keeps the split over a restart, and exits 0 on SIGTERM', async () => {
    const state = join(dir, 'router.json');
    const first = await startCli(['--state', state, '--blue', blue.url, '--blue-version', blue.version, '--green', green.url]);
    const setWeights = await call(`${first.url}/admin/weights`, { method: 'PUT', json: { blue: 90, green: 10 }, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(setWeights.status).toBe(200);
    // --green without --green-version: the version was read from the upstream's /model/info.
    expect(setWeights.body.green).toMatchObject({ url: green.url, version: green.version, weight: 10 });
    first.child.kill('SIGTERM');
    expect((await first.exit).code).toBe(0);

    const second = await startCli(['--state', state]);
    const served = { blue: 0, green: 0 };
    for (let i = 0; i < 50; i++) served[(await predict(second.url)).headers.get('x-served-by') as 'blue' | 'green']++;
    expect(served).toEqual({ blue: 45, green: 5 });
    expect((await call(`${second.url}/admin/state`, { headers: { authorization: `Bearer ${TOKEN}` } })).body.generation).toBe(3);
    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);
  });

  it('gives green the traffic on a fresh state when only --green is given', async () => {
    const r = await startCli(['--state', join(dir, 'green-only.json'), '--green', green.url, '--green-version', green.version]);
    expect((await predict(r.url)).headers.get('x-served-by')).toBe('green');
    r.child.kill('SIGTERM');
    expect((await r.exit).code).toBe(0);
  });

  it('exits 2 with one line naming a bad flag', async () => {
    await expect(startCli(['--blue', 'not a url'])).rejects.toThrow(/exited 2 before listening: gsg router: --blue: must be an http:\/\/ URL/);
    await expect(startCli(['--port', '70000'])).rejects.toThrow(/exited 2 .*--port: /);
  });
});
