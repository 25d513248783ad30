// FsStore (file://) passes the RegistryStore and Registry contracts; plus what only a filesystem can do (stale locks).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFsStore } from '../../registry/fs-store.js';
import { describeRegistryContract } from './contract/registry-contract.js';
import { describeStoreContract, type StoreBackend } from './contract/store-contract.js';

async function fsBackend(): Promise<StoreBackend> {
  const root = await mkdtemp(join(tmpdir(), 'gsg-fs-store-'));
  return { client: () => createFsStore(root), close: () => rm(root, { recursive: true, force: true }) };
}

describeStoreContract('FsStore', fsBackend);
describeRegistryContract('FsStore', fsBackend);

describe('FsStore locks', () => {
  it('breaks a lock left by a crashed writer once it is stale', async () => {
    const root = await mkdtemp(join(tmpdir(), 'gsg-fs-lock-'));
    try {
      const store = createFsStore(root, { staleLockMs: 50 });
      await store.write('k/obj', Buffer.from('a'));
      const lock = join(root, 'k', '.obj.lock');
      await writeFile(lock, '99999\n');
      await new Promise((r) => setTimeout(r, 80));
      await store.write('k/obj', Buffer.from('b'), { ifGenerationMatch: (await store.read('k/obj'))!.generation });
      expect((await store.read('k/obj'))?.data.toString()).toBe('b');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('gives up with a clear error while a fresh lock is held', async () => {
    const root = await mkdtemp(join(tmpdir(), 'gsg-fs-lock-'));
    try {
      const store = createFsStore(root, { lockTimeoutMs: 100 });
      await store.write('k/obj', Buffer.from('a'));
      await writeFile(join(root, 'k', '.obj.lock'), '99999\n');
      await expect(store.write('k/obj', Buffer.from('b'), { ifGenerationMatch: '0' })).rejects.toThrow(/lock held/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
