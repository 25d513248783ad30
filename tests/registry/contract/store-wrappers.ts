// RegistryStore decorators for tests: count calls, hold readers at a barrier, fail a download mid-stream, or crash a write.
import { PassThrough, type Readable } from 'node:stream';
import type { RegistryStore } from '../../../registry/store.js';

export interface Counted {
  store: RegistryStore;
  calls: Record<'read' | 'openRead' | 'exists' | 'write' | 'list' | 'delete', string[]>;
}

export function counting(inner: RegistryStore): Counted {
  const calls: Counted['calls'] = { read: [], openRead: [], exists: [], write: [], list: [], delete: [] };
  return {
    calls,
    store: {
      url: inner.url,
      read: (k) => (calls.read.push(k), inner.read(k)),
      openRead: (k) => (calls.openRead.push(k), inner.openRead(k)),
      exists: (k) => (calls.exists.push(k), inner.exists(k)),
      write: (k, s, o) => (calls.write.push(k), inner.write(k, s, o)),
      list: (p) => (calls.list.push(p), inner.list(p)),
      delete: (k, o) => (calls.delete.push(k), inner.delete(k, o)),
    },
  };
}

/** A barrier shared by several stores: reads of matching keys wait until `parties` of them have happened. */
export function readBarrier(parties: number, matches: (key: string) => boolean) {
  let arrived = 0;
  let release!: () => void;
  const open = new Promise<void>((r) => (release = r));
  return (inner: RegistryStore): RegistryStore => ({
    ...inner,
    url: inner.url,
    async read(key) {
      const result = await inner.read(key);
      if (matches(key)) {
        if (++arrived >= parties) release();
        await open;
      }
      return result;
    },
  });
}

/** Downloads of keys matching `matches` deliver `afterBytes` bytes and then fail, like a dropped connection. */
export function failingDownloads(inner: RegistryStore, matches: (key: string) => boolean, afterBytes = 10): RegistryStore {
  return {
    ...inner,
    url: inner.url,
    async openRead(key) {
      const source = await inner.openRead(key);
      if (!matches(key)) return source;
      const out = new PassThrough();
      let sent = 0;
      source.on('data', (chunk: Buffer) => {
        if (sent >= afterBytes) return;
        out.write(chunk.subarray(0, afterBytes - sent));
        sent += Math.min(chunk.length, afterBytes - sent);
        if (sent >= afterBytes) {
          source.destroy();
          setImmediate(() => out.destroy(new Error('connection reset by peer')));
        }
      });
      source.on('error', (err) => out.destroy(err));
      return out as Readable;
    },
  };
}

/** Writes of keys matching `matches` fail (a push that crashes before its commit). */
export function failingWrites(inner: RegistryStore, matches: (key: string) => boolean): RegistryStore {
  return {
    ...inner,
    url: inner.url,
    async write(key, source, opts) {
      if (matches(key)) throw new Error(`simulated crash while writing ${key}`);
      return inner.write(key, source, opts);
    },
  };
}
