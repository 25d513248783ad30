// The content-hash cache under $GSG_HOME/cache: what materialize leaves there and what it cleans up.
import { mkdir, mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsStore } from '../../registry/fs-store.js';
import { createRegistry, type Registry } from '../../registry/registry.js';
import { writeModelVersion } from '../helpers/model-fixture.js';

let tmp: string;
let registry: Registry;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gsg-cache-'));
  registry = createRegistry(createFsStore(join(tmp, 'registry')), { cacheDir: join(tmp, 'cache') });
  await registry.push((await writeModelVersion(join(tmp, 'src'))).dir);
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('materialize cache', () => {
  it('removes a stale partial download of the same version left by a killed process, keeps a fresh one', async () => {
    const { digest } = await registry.resolve('sentiment-logreg@2026-11-25.001');
    const stale = join(tmp, 'cache', `.${digest}.partial-dead01`);
    const fresh = join(tmp, 'cache', `.${digest}.partial-live02`);
    await mkdir(join(stale, 'sub'), { recursive: true });
    await mkdir(fresh, { recursive: true });
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(stale, hourAgo, hourAgo);
    const m = await registry.materialize('sentiment-logreg@2026-11-25.001');
    expect((await readdir(join(tmp, 'cache'))).sort()).toEqual([`.${digest}.partial-live02`, digest].sort());
    expect(m.dir).toBe(join(tmp, 'cache', digest));
  });

  it('re-pulls a cache entry that was damaged (a file missing) instead of serving it', async () => {
    const first = await registry.materialize('sentiment-logreg@2026-11-25.001');
    await rm(join(first.dir, 'model.onnx'));
    const again = await registry.materialize('sentiment-logreg@2026-11-25.001');
    expect(again.cached).toBe(false);
    expect(await readdir(again.dir)).toContain('model.onnx');
  });
});
