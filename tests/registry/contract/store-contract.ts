// The RegistryStore contract as a suite factory: every store (FsStore, GcsStore) must pass the same specification.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, PreconditionFailedError } from '../../../registry/errors.js';
import type { RegistryStore } from '../../../registry/store.js';

export interface StoreBackend {
  /** A new client of one fresh, empty backend (call it twice for two independent clients of the same backend). */
  client(): RegistryStore;
  close(): Promise<void>;
}

export function describeStoreContract(name: string, start: () => Promise<StoreBackend>): void {
  describe(`RegistryStore contract: ${name}`, () => {
    let backend: StoreBackend;
    let store: RegistryStore;
    let tmp: string;
    beforeAll(async () => {
      backend = await start();
      store = backend.client();
      tmp = await mkdtemp(join(tmpdir(), 'gsg-store-'));
    });
    afterAll(async () => {
      await backend.close();
      await rm(tmp, { recursive: true, force: true });
    });

    it('reads back what was written, with a generation', async () => {
      await store.write('a/b/one.json', Buffer.from('{"n":1}'));
      const got = await store.read('a/b/one.json');
      expect(got?.data.toString()).toBe('{"n":1}');
      expect(got?.generation).toMatch(/\S/);
      expect(await store.exists('a/b/one.json')).toBe(true);
    });

    it('streams an object written from a file', async () => {
      const path = join(tmp, 'big.bin');
      const data = Buffer.alloc(700_000).map((_, i) => i % 251);
      await writeFile(path, data);
      await store.write('blobs/big', { path });
      expect((await buffer(await store.openRead('blobs/big'))).equals(data)).toBe(true);
    });

    it('reports a missing key: read → undefined, exists → false, openRead and delete → NotFoundError', async () => {
      expect(await store.read('missing/key')).toBeUndefined();
      expect(await store.exists('missing/key')).toBe(false);
      await expect(store.openRead('missing/key').then(buffer)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.delete('missing/key')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('refuses a write with ifGenerationMatch "0" when the object exists, and leaves it unchanged', async () => {
      await store.write('cas/absent.json', Buffer.from('first'), { ifGenerationMatch: '0' });
      await expect(store.write('cas/absent.json', Buffer.from('second'), { ifGenerationMatch: '0' })).rejects.toBeInstanceOf(PreconditionFailedError);
      expect((await store.read('cas/absent.json'))?.data.toString()).toBe('first');
    });

    it('applies the precondition to large objects written from a file too', async () => {
      const path = join(tmp, 'large.bin');
      await writeFile(path, Buffer.alloc(300_000, 9));
      await store.write('cas/large.bin', { path }, { ifGenerationMatch: '0' });
      await writeFile(path, Buffer.alloc(300_000, 8));
      await expect(store.write('cas/large.bin', { path }, { ifGenerationMatch: '0' })).rejects.toBeInstanceOf(PreconditionFailedError);
      expect((await buffer(await store.openRead('cas/large.bin')))[0]).toBe(9);
    });

    it('replaces an object when ifGenerationMatch is its current generation, and refuses a stale generation', async () => {
      await store.write('cas/obj.json', Buffer.from('v1'));
      const g1 = (await store.read('cas/obj.json'))!.generation;
      await store.write('cas/obj.json', Buffer.from('v2'), { ifGenerationMatch: g1 });
      const g2 = (await store.read('cas/obj.json'))!.generation;
      expect(g2).not.toBe(g1);
      await expect(store.write('cas/obj.json', Buffer.from('v3'), { ifGenerationMatch: g1 })).rejects.toBeInstanceOf(PreconditionFailedError);
      expect((await store.read('cas/obj.json'))?.data.toString()).toBe('v2');
    });

    it('lets exactly one of two clients win a concurrent compare-and-swap on the same generation', async () => {
      await store.write('cas/race.json', Buffer.from('start'));
      const g = (await store.read('cas/race.json'))!.generation;
      const [x, y] = [backend.client(), backend.client()];
      const results = await Promise.allSettled([x.write('cas/race.json', Buffer.from('x'), { ifGenerationMatch: g }), y.write('cas/race.json', Buffer.from('y'), { ifGenerationMatch: g })]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(PreconditionFailedError);
      const winner = results[0]!.status === 'fulfilled' ? 'x' : 'y';
      expect((await store.read('cas/race.json'))?.data.toString()).toBe(winner);
    });

    it('lists every key under a prefix, sorted, and nothing that merely shares its first characters', async () => {
      for (const k of ['l/m/2', 'l/m/1', 'l/m/sub/3', 'l/mm/4', 'l/n']) await store.write(k, Buffer.from(k));
      expect(await store.list('l/m/')).toEqual(['l/m/1', 'l/m/2', 'l/m/sub/3']);
      expect(await store.list('l/m')).toEqual(['l/m/1', 'l/m/2', 'l/m/sub/3', 'l/mm/4']);
      expect(await store.list('nothing/here/')).toEqual([]);
    });

    it('deletes, unconditionally or only at the expected generation', async () => {
      await store.write('d/one', Buffer.from('1'));
      await store.delete('d/one');
      expect(await store.exists('d/one')).toBe(false);
      await store.write('d/two', Buffer.from('2'));
      const g = (await store.read('d/two'))!.generation;
      await store.write('d/two', Buffer.from('2b'));
      await expect(store.delete('d/two', { ifGenerationMatch: g })).rejects.toBeInstanceOf(PreconditionFailedError);
      await store.delete('d/two', { ifGenerationMatch: (await store.read('d/two'))!.generation });
      expect(await store.exists('d/two')).toBe(false);
    });

    it('rejects keys with hidden or ".." segments', async () => {
      await expect(store.write('../escape', Buffer.from('x'))).rejects.toThrow(/invalid registry object key/);
      await expect(store.read('a/.hidden')).rejects.toThrow(/invalid registry object key/);
    });
  });
}
