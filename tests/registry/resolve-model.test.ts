// resolveModelDir: what `gsg serve --model`, `gsg build` and the runtimes call to turn a directory or a registry ref
// into a verified local model directory (and to learn its name, version and metadata).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../lib/exit-codes.js';
import { openRegistry } from '../../registry/registry.js';
import { resolveModelDir } from '../../registry/resolve-model.js';
import { writeModelVersion } from '../helpers/model-fixture.js';

let tmp: string;
let env: NodeJS.ProcessEnv;
let srcDir: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gsg-resolve-'));
  env = { HOME: tmp, GSG_HOME: join(tmp, 'gsg') };
  srcDir = (await writeModelVersion(join(tmp, 'src'), { version: '2026-11-05.002' })).dir;
  const registry = await openRegistry(env);
  await registry.push(srcDir);
  await registry.setAlias('sentiment-logreg', 'production', '2026-11-05.002', { actor: 'test' });
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('resolveModelDir', () => {
  it('uses a directory in place and reports its name, version and metadata', async () => {
    expect(await resolveModelDir(srcDir, env)).toMatchObject({ dir: srcDir, name: 'sentiment-logreg', version: '2026-11-05.002', metadata: { threshold: 0.5 } });
  });

  it('pulls name:alias into $GSG_HOME/cache/<digest> once, then serves it from the cache', async () => {
    const first = await resolveModelDir('sentiment-logreg:production', env);
    expect(first).toMatchObject({ name: 'sentiment-logreg', version: '2026-11-05.002', alias: 'production', cached: false });
    expect(first.dir).toBe(join(tmp, 'gsg', 'cache', first.digest!));
    const second = await resolveModelDir('sentiment-logreg@2026-11-05.002', env);
    expect(second).toMatchObject({ dir: first.dir, cached: true });
  });

  it('defaults the registry to $GSG_HOME/registry', async () => {
    expect((await openRegistry(env)).url).toBe(`file://${join(tmp, 'gsg', 'registry')}`);
  });

  it('fails with not found (exit 3) for an unknown ref and bad input (exit 2) for a missing directory', async () => {
    await expect(resolveModelDir('sentiment-logreg:canary', env)).rejects.toMatchObject({ exitCode: ExitCode.NotFound });
    await expect(resolveModelDir(join(tmp, 'nope'), env)).rejects.toMatchObject({ exitCode: ExitCode.BadInput, message: expect.stringContaining('--model') });
  });

  it('refuses a GSG_REGISTRY that is not a registry URL, naming the variable', async () => {
    await expect(resolveModelDir('sentiment-logreg:production', { ...env, GSG_REGISTRY: 's3://bucket' })).rejects.toThrow(/GSG_REGISTRY/);
  });
});
