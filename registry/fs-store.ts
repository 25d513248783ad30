// FsStore: the RegistryStore on a local directory (file://). Objects are plain files; a write lands by an atomic
// rename; conditional writes run under a per-object lock file; the generation is the content's sha256.
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { NotFoundError, PreconditionFailedError, RegistryError } from './errors.js';
import { ABSENT, assertKey, type RegistryStore, type WriteOptions } from './store.js';

export interface FsStoreOptions {
  /** A lock file older than this is left over by a crashed writer and is broken (default 10 s). */
  staleLockMs?: number;
  /** Give up waiting for a lock after this long (default 15 s). */
  lockTimeoutMs?: number;
}

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';
const generationOf = (data: Buffer) => createHash('sha256').update(data).digest('hex').slice(0, 32);

export function createFsStore(root: string, opts: FsStoreOptions = {}): RegistryStore {
  const staleLockMs = opts.staleLockMs ?? 10_000;
  const lockTimeoutMs = opts.lockTimeoutMs ?? 15_000;
  const pathOf = (key: string) => {
    assertKey(key);
    return join(root, ...key.split('/'));
  };
  // Temp and lock files are hidden siblings, so keys (which never start with ".") cannot collide with them.
  const sibling = (path: string, suffix: string) => join(dirname(path), `.${path.slice(dirname(path).length + 1)}.${suffix}`);

  async function currentGeneration(path: string): Promise<string> {
    try {
      return generationOf(await readFile(path));
    } catch (err) {
      if (isMissing(err)) return ABSENT;
      throw err;
    }
  }

  async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
    const lock = sibling(path, 'lock');
    const deadline = Date.now() + lockTimeoutMs;
    for (;;) {
      try {
        const handle = await open(lock, 'wx');
        await handle.writeFile(`${process.pid}\n`);
        await handle.close();
        break;
      } catch (err) {
        if (isMissing(err)) {
          await mkdir(dirname(lock), { recursive: true });
          continue;
        }
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
        if (age > staleLockMs) await unlink(lock).catch(() => undefined);
        else if (Date.now() > deadline) throw new RegistryError(`${lock}: lock held for over ${lockTimeoutMs} ms (remove it if no gsg process is running)`, { lock });
        else await sleep(5 + Math.random() * 15);
      }
    }
    try {
      return await fn();
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }

  async function checkPrecondition(key: string, path: string, expected: string | undefined): Promise<void> {
    if (expected !== undefined && (await currentGeneration(path)) !== expected) throw new PreconditionFailedError(key, expected);
  }

  return {
    url: `file://${root}`,

    async read(key) {
      try {
        const data = await readFile(pathOf(key));
        return { data, generation: generationOf(data) };
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },

    async openRead(key) {
      const path = pathOf(key);
      // Open first so a missing object fails here, not later as a stream error.
      const handle = await open(path, 'r').catch((err: unknown) => {
        throw isMissing(err) ? new NotFoundError(`${key}: no such object in ${root}`, { key }) : err;
      });
      return handle.createReadStream() as Readable;
    },

    async exists(key) {
      return stat(pathOf(key)).then((s) => s.isFile(), () => false);
    },

    async write(key, source, wopts: WriteOptions = {}) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const tmp = sibling(path, `${randomBytes(6).toString('hex')}.tmp`);
      try {
        if (Buffer.isBuffer(source)) await writeFile(tmp, source);
        else await copyFile(source.path, tmp);
        if (wopts.ifGenerationMatch === undefined) await rename(tmp, path);
        else
          await withLock(path, async () => {
            await checkPrecondition(key, path, wopts.ifGenerationMatch);
            await rename(tmp, path);
          });
      } finally {
        await rm(tmp, { force: true });
      }
    },

    async list(prefix) {
      const keys: string[] = [];
      // Walk only below the deepest directory the prefix names.
      const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      const walk = async (dir: string, keyPrefix: string): Promise<void> => {
        const entries = await readdir(dir, { withFileTypes: true }).catch((err: unknown) => {
          if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
          throw err;
        });
        for (const e of entries) {
          if (e.name.startsWith('.')) continue;
          const key = keyPrefix + e.name;
          if (e.isDirectory()) {
            const dirKey = `${key}/`;
            if (prefix.startsWith(dirKey) || dirKey.startsWith(prefix)) await walk(join(dir, e.name), dirKey);
          } else if (e.isFile() && key.startsWith(prefix)) keys.push(key);
        }
      };
      await walk(base ? join(root, ...base.split('/')) : root, base ? `${base}/` : '');
      return keys.sort();
    },

    async delete(key, wopts: WriteOptions = {}) {
      const path = pathOf(key);
      const remove = async () => {
        await checkPrecondition(key, path, wopts.ifGenerationMatch);
        await unlink(path).catch((err: unknown) => {
          throw isMissing(err) ? new NotFoundError(`${key}: no such object in ${root}`, { key }) : err;
        });
      };
      await (wopts.ifGenerationMatch === undefined ? remove() : withLock(path, remove));
    },
  };
}
