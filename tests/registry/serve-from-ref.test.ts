// `gsg serve --model name:alias` resolves the ref through the registry (pull into the content-hash cache) and the
// server's /model/info reports the version the alias resolved to. Real child process, real ONNX model.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntilReady } from '../../infra/runtimes/ready.js';
import { projectRoot } from '../../lib/paths.js';
import { openRegistry, type Registry } from '../../registry/registry.js';
import { resolveModelDir } from '../../registry/resolve-model.js';
import { copyVersionAs, testModelDir } from '../helpers/models.js';
import { spawnServer, type ServerProcess } from '../model-server/helpers.js';

let tmp: string;
let env: NodeJS.ProcessEnv;
let registry: Registry;
let bundled: { name: string; version: string };
const servers: ServerProcess[] = [];

const GSG = join(projectRoot(), 'bin', 'gsg.mjs');
const gsgServe = (ref: string) => spawnServer({ GSG_HOME: env.GSG_HOME!, GSG_REGISTRY: '', LOG_LEVEL: 'warn' }, [GSG, 'serve', '--model', ref]);

/** Starts `gsg serve --model <ref>` and resolves once /ready answers 200. */
async function serve(ref: string): Promise<ServerProcess> {
  const server = await gsgServe(ref);
  servers.push(server);
  await waitUntilReady(server.url, {
    timeoutMs: 60_000,
    intervalMs: 100,
    died: () => (server.child.exitCode === null ? undefined : `gsg serve exited ${server.child.exitCode}`),
  }).catch((err: Error) => {
    throw new Error(`gsg serve --model ${ref}: ${err.message}: ${server.stderr()}`);
  });
  return server;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gsg-serve-ref-'));
  env = { ...process.env, GSG_HOME: join(tmp, 'gsg'), GSG_REGISTRY: '' };
  registry = await openRegistry(env);
  const dir = await testModelDir();
  const pushed = await registry.push(dir, { actor: 'test' });
  bundled = { name: pushed.name, version: pushed.version };
  // The same model re-versioned: what the alias moves to next.
  await registry.push(await copyVersionAs(dir, join(tmp, 'next'), `${pushed.version}-next`), { actor: 'test' });
  await registry.setAlias(pushed.name, 'production', pushed.version, { actor: 'test' });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.kill()));
  await rm(tmp, { recursive: true, force: true });
});

describe('gsg serve --model <registry ref>', () => {
  it('serves the version the alias points at and reports it on /model/info; the pull lands in the cache', async () => {
    const server = await serve(`${bundled.name}:production`);
    const info = (await (await fetch(`${server.url}/model/info`)).json()) as { model_name: string; version: string };
    expect(info).toMatchObject({ model_name: bundled.name, version: bundled.version });
    await server.kill();
    expect(await resolveModelDir(`${bundled.name}:production`, env)).toMatchObject({ version: bundled.version, cached: true });
  });

  it('follows the alias when it moves', async () => {
    await registry.setAlias(bundled.name, 'production', `${bundled.version}-next`, { actor: 'test', expect: bundled.version });
    const server = await serve(`${bundled.name}:production`);
    expect(((await (await fetch(`${server.url}/model/info`)).json()) as { version: string }).version).toBe(`${bundled.version}-next`);
    await server.kill();
  });

  it('refuses an unknown ref with exit code 3 before starting anything', async () => {
    const server = await gsgServe(`${bundled.name}:canary`);
    servers.push(server);
    expect(await server.exited).toBe(3);
    expect(server.stderr()).toContain('production ->');
});
});
