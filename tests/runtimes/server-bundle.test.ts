// The ProcessRuntime's entry: an up-to-date one-file server bundle under dist/, or the dist entry where no bundle
// can be built.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/paths.js';
import { listSources } from '../../scripts/build.mjs';
import { ensureServerBundle, serverDistEntry } from '../../infra/runtimes/server-bundle.js';

describe('server bundle for local processes', () => {
  it('is dist/model-server.mjs, not older than any source', async () => {
    const file = await ensureServerBundle(projectRoot());
    expect(file).toBe(join(projectRoot(), 'dist', 'model-server.mjs'));
    expect((await stat(file)).mtimeMs).toBeGreaterThanOrEqual(listSources().newest);
  }, 60_000);

  it('is pure ASCII, so V8 holds its source as a one-byte string (half the memory of a two-byte one)', async () => {
    const bytes = await readFile(await ensureServerBundle(projectRoot()));
    expect(bytes.findIndex((b) => b > 0x7f)).toBe(-1);
  }, 60_000);

  it('is reused while no source changes', async () => {
    const first = await stat(await ensureServerBundle(projectRoot()));
    const again = await stat(await ensureServerBundle(projectRoot()));
    expect(again.mtimeMs).toBe(first.mtimeMs);
  }, 60_000);

  it('falls back to the dist entry in a tree without the build script', async () => {
    const root = await mkdtemp(join(tmpdir(), 'gsg-no-sources-'));
    try {
      expect(await ensureServerBundle(root)).toBe(serverDistEntry(root));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
