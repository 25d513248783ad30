// The Registry specification as a suite factory, run against every store: round trip, immutability, refs, alias
// compare-and-swap and history, integrity of pulls, metadata validation, and the content-hash cache.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, IntegrityError, NotFoundError } from '../../../registry/errors.js';
import { blobKey, createRegistry, type Registry } from '../../../registry/registry.js';
import type { RegistryStore } from '../../../registry/store.js';
import { writeModelVersion } from '../../helpers/model-fixture.js';
import type { StoreBackend } from './store-contract.js';
import { counting, failingDownloads, failingWrites, readBarrier } from './store-wrappers.js';

const NAME = 'sentiment-logreg';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function describeRegistryContract(name: string, start: () => Promise<StoreBackend>): void {
  describe(`Registry contract: ${name}`, () => {
    let backend: StoreBackend;
    let tmp: string;
    let registry: Registry;
    const registryOn = (store: RegistryStore) => createRegistry(store, { cacheDir: join(tmp, 'cache') });
    const version = (v: string, opts: Parameters<typeof writeModelVersion>[1] = {}) => writeModelVersion(join(tmp, 'src', v), { version: v, ...opts });
    const leftovers = async (dir: string) => (await readdir(dir).catch(() => [])).filter((n) => n.includes('partial'));

    beforeAll(async () => {
      backend = await start();
      tmp = await mkdtemp(join(tmpdir(), 'gsg-registry-'));
      registry = registryOn(backend.client());
      for (const v of ['2026-11-01.001', '2026-11-02.001', '2026-11-03.001']) await registry.push((await version(v, { f1Neg: 0.8 })).dir, { actor: 'tester' });
    });
    afterAll(async () => {
      await backend.close();
      await rm(tmp, { recursive: true, force: true });
    });

    it('push → list → resolve → pull round-trips every file byte for byte', async () => {
      const src = await version('2026-11-10.001', { f1Neg: 0.913, extraFiles: { 'figures/pr-curve.svg': '<svg/>' } });
      const pushed = await registry.push(src.dir, { actor: 'alice' });
      expect(pushed.ref).toBe(`${NAME}@2026-11-10.001`);
      const listed = (await registry.listVersions(NAME)).find((v) => v.version === '2026-11-10.001');
      expect(listed?.manifest.metadata.metrics.val.negative.f1).toBe(0.913);
      expect(listed?.manifest.pushed_by).toBe('alice');
      const resolved = await registry.resolve(`${NAME}@2026-11-10.001`);
      expect(resolved.digest).toBe(pushed.digest);
      expect(Object.keys(resolved.manifest.files).sort()).toEqual(['explain.json', 'figures/pr-curve.svg', 'metadata.json', 'model.onnx', 'report.md']);
      const dest = join(tmp, 'pulled', 'round-trip');
      await registry.pull(`${NAME}@2026-11-10.001`, dest);
      for (const rel of Object.keys(resolved.manifest.files)) expect((await readFile(join(dest, rel))).equals(await readFile(join(src.dir, rel)))).toBe(true);
    });

    it('lists the models it holds', async () => {
      expect(await registry.listModels()).toEqual([NAME]);
    });

    it('refuses to push a version that exists and changes nothing', async () => {
      const store = counting(backend.client());
      const before = await registry.resolve(`${NAME}@2026-11-01.001`);
      const changed = await version('2026-11-01.001', { f1Neg: 0.99 });
      await expect(registryOn(store.store).push(changed.dir)).rejects.toThrow(ConflictError);
      await expect(registryOn(store.store).push(changed.dir)).rejects.toThrow(/2026-11-01\.001 already exists/);
      expect(store.calls.write).toEqual([]);
      expect((await registry.resolve(`${NAME}@2026-11-01.001`)).manifest).toEqual(before.manifest);
    });

    it('lets exactly one of two concurrent pushes of the same version commit it', async () => {
      const [a, b] = [await version('2026-11-12.001', { f1Neg: 0.5 }), await writeModelVersion(join(tmp, 'src-other', '2026-11-12.001'), { version: '2026-11-12.001', f1Neg: 0.6 })];
      const results = await Promise.allSettled([registryOn(backend.client()).push(a.dir), registryOn(backend.client()).push(b.dir)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
      const winner = results[0]!.status === 'fulfilled' ? 0.5 : 0.6;
      const pulled = await registry.pull(`${NAME}@2026-11-12.001`, join(tmp, 'pulled', 'concurrent'));
      expect(JSON.parse(await readFile(join(pulled.dir, 'metadata.json'), 'utf8')).metrics.val.negative.f1).toBe(winner);
    });

    it('refuses metadata with a bad field, naming the field, and stores nothing', async () => {
      const store = counting(backend.client());
      const bad = await version('2026-11-20.001', { editMetadata: (m) => (m.threshold = 1.7) });
      await expect(registryOn(store.store).push(bad.dir)).rejects.toThrow(/threshold/);
      expect(store.calls.write).toEqual([]);
    });

    it('never shows a version whose push crashed before its manifest was written, and a retry succeeds', async () => {
      const src = await version('2026-11-21.001');
      const crashing = registryOn(failingWrites(backend.client(), (k) => k.includes('/versions/')));
      await expect(crashing.push(src.dir)).rejects.toThrow(/simulated crash/);
      expect((await registry.listVersions(NAME)).map((v) => v.version)).not.toContain('2026-11-21.001');
      await expect(registry.resolve(`${NAME}@2026-11-21.001`)).rejects.toThrow(NotFoundError);
      expect((await registry.push(src.dir)).version).toBe('2026-11-21.001');
    });

    it('answers an unknown version with NotFoundError listing the versions and aliases that exist', async () => {
      await registry.setAlias(NAME, 'staging', '2026-11-02.001', { actor: 'tester' });
      const err = await registry.resolve(`${NAME}@1999-01-01.001`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      expect((err as Error).message).toContain('2026-11-01.001, 2026-11-02.001, 2026-11-03.001');
      expect((err as Error).message).toContain('staging -> 2026-11-02.001');
    });

    it('answers an unknown alias or model with NotFoundError naming what exists', async () => {
      await expect(registry.resolve(`${NAME}:nonexistent`)).rejects.toThrow(/versions: 2026-11-01\.001/);
      await expect(registry.resolve('other-model@1')).rejects.toThrow(new RegExp(`no model "other-model".*models: ${NAME}`));
    });

    it('resolves an alias to the version it points at', async () => {
      await registry.setAlias(NAME, 'candidate', '2026-11-03.001', { actor: 'tester' });
      expect(await registry.resolve(`${NAME}:candidate`)).toMatchObject({ name: NAME, version: '2026-11-03.001', alias: 'candidate' });
    });

    it('lets exactly one of two concurrent alias movers win; the loser gets a conflict naming the current target', async () => {
      const barrier = readBarrier(2, (k) => k.endsWith('/aliases/production.json'));
      const [a, b] = [registryOn(barrier(backend.client())), registryOn(barrier(backend.client()))];
      const results = await Promise.allSettled([
        a.setAlias(NAME, 'production', '2026-11-02.001', { actor: 'ana', reason: 'a' }),
        b.setAlias(NAME, 'production', '2026-11-03.001', { actor: 'bo', reason: 'b' }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const winner = results[0]!.status === 'fulfilled' ? '2026-11-02.001' : '2026-11-03.001';
      const lost = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as Error;
      expect(lost).toBeInstanceOf(ConflictError);
      expect(lost.message).toContain(`now points at ${winner}`);
      const history = await registry.aliasHistory(NAME, 'production');
      expect(history).toHaveLength(1);
      expect(history[0]).toMatchObject({ alias: 'production', from: null, to: winner });
    });

    it('refuses a move whose --expect is not the current target, naming the current target', async () => {
      const current = (await registry.aliases(NAME)).production!;
      await expect(registry.setAlias(NAME, 'production', '2026-11-01.001', { expect: '2026-11-10.001' })).rejects.toThrow(new RegExp(`points at ${current.replace(/\./g, '\\.')}`));
      await expect(registry.setAlias(NAME, 'production', '2026-11-01.001', { expect: null })).rejects.toThrow(ConflictError);
      expect((await registry.aliases(NAME)).production).toBe(current);
    });

    it('records every move (from, to, when, who, why) and answers which version an alias pointed at, at a time', async () => {
      const clock = { t: Date.parse('2030-01-01T00:00:00Z') };
      const timed = createRegistry(backend.client(), { cacheDir: join(tmp, 'cache'), now: () => new Date((clock.t += 3_600_000)) });
      await timed.setAlias(NAME, 'history-test', '2026-11-01.001', { actor: 'ana', reason: 'first release' });
      await timed.setAlias(NAME, 'history-test', '2026-11-02.001', { actor: 'bo', reason: 'better F1', expect: '2026-11-01.001' });
      await timed.setAlias(NAME, 'history-test', '2026-11-01.001', { actor: 'cy', reason: 'rollback' });
      const history = await registry.aliasHistory(NAME, 'history-test');
      expect(history.map((m) => [m.from, m.to, m.actor, m.reason, m.at])).toEqual([
        [null, '2026-11-01.001', 'ana', 'first release', '2030-01-01T01:00:00.000Z'],
        ['2026-11-01.001', '2026-11-02.001', 'bo', 'better F1', '2030-01-01T02:00:00.000Z'],
        ['2026-11-02.001', '2026-11-01.001', 'cy', 'rollback', '2030-01-01T03:00:00.000Z'],
      ]);
      expect(await registry.aliasAt(NAME, 'history-test', new Date('2030-01-01T00:30:00Z'))).toBeUndefined();
      expect(await registry.aliasAt(NAME, 'history-test', new Date('2030-01-01T02:30:00Z'))).toBe('2026-11-02.001');
      expect(await registry.aliasAt(NAME, 'history-test', new Date('2031-01-01T00:00:00Z'))).toBe('2026-11-01.001');
      expect((await registry.aliasHistory(NAME)).map((m) => m.alias)).toEqual(expect.arrayContaining(['production', 'staging', 'candidate', 'history-test']));
    });

    it('refuses an alias move to a version that does not exist', async () => {
      await expect(registry.setAlias(NAME, 'production', '2099-01-01.001')).rejects.toThrow(NotFoundError);
    });

    it('refuses a corrupted object on pull, naming the file and both checksums, and leaves nothing behind', async () => {
      const src = await version('2026-11-22.001', { modelBytes: Buffer.from('a model only this version has') });
      const pushed = await registry.push(src.dir);
      const expected = pushed.manifest.files['model.onnx']!.sha256;
      const tampered = Buffer.from('a model only this version hax');
      await backend.client().write(blobKey(expected), tampered);
      const parent = join(tmp, 'corrupt');
      const err = await registry.pull(`${NAME}@2026-11-22.001`, join(parent, 'dest')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IntegrityError);
      expect((err as Error).message).toContain('model.onnx');
      expect((err as Error).message).toContain(expected);
      expect((err as Error).message).toContain(sha256(tampered));
      expect(await readdir(parent)).toEqual([]);
      await expect(registry.materialize(`${NAME}@2026-11-22.001`)).rejects.toThrow(IntegrityError);
      expect(await leftovers(join(tmp, 'cache'))).toEqual([]);
    });

    it('leaves nothing at the destination when a download is interrupted', async () => {
      const resolved = await registry.resolve(`${NAME}@2026-11-03.001`);
      const modelBlob = blobKey(resolved.manifest.files['model.onnx']!.sha256);
      const flaky = registryOn(failingDownloads(backend.client(), (k) => k === modelBlob));
      const parent = join(tmp, 'interrupted');
      await expect(flaky.pull(`${NAME}@2026-11-03.001`, join(parent, 'dest'))).rejects.toThrow(/model\.onnx: download interrupted/);
      expect(await readdir(parent)).toEqual([]);
    });

    it('refuses a stored manifest whose metadata has a bad field, naming it', async () => {
      const src = await version('2026-11-23.001');
      await registry.push(src.dir);
      const key = `models/${NAME}/versions/2026-11-23.001.json`;
      const manifest = JSON.parse((await backend.client().read(key))!.data.toString());
      manifest.metadata.target_class = 'positive';
      await backend.client().write(key, Buffer.from(JSON.stringify(manifest)));
      await expect(registry.pull(`${NAME}@2026-11-23.001`, join(tmp, 'bad-manifest'))).rejects.toThrow(/metadata\.target_class/);
    });

    it('refuses to pull into a directory that exists', async () => {
      const dest = join(tmp, 'exists');
      await writeFile(join(tmp, 'exists'), 'x');
      await expect(registry.pull(`${NAME}@2026-11-01.001`, dest)).rejects.toThrow(/already exists/);
    });

    it('materializes a ref into the content-hash cache once; the second call downloads nothing', async () => {
      const store = counting(backend.client());
      const reg = registryOn(store.store);
      const first = await reg.materialize(`${NAME}:candidate`);
      expect(first).toMatchObject({ cached: false, version: '2026-11-03.001', dir: join(tmp, 'cache', first.digest) });
      expect(store.calls.openRead.length).toBeGreaterThan(0);
      store.calls.openRead.length = 0;
      const second = await reg.materialize(`${NAME}@2026-11-03.001`);
      expect(second).toMatchObject({ cached: true, dir: first.dir });
      expect(store.calls.openRead).toEqual([]);
      expect(JSON.parse(await readFile(join(first.dir, 'metadata.json'), 'utf8')).version).toBe('2026-11-03.001');
    });

    it('accepts a plain directory wherever a ref is accepted (materialize uses it in place)', async () => {
      const src = await version('2026-11-24.001');
      expect(await registry.materialize(src.dir)).toMatchObject({ dir: src.dir, source: 'directory', version: '2026-11-24.001' });
      expect((await registry.resolve(src.dir)).manifest.files['model.onnx']).toBeDefined();
    });
  });
}
