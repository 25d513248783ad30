// GcsStore: the RegistryStore on Google Cloud Storage (gs://bucket/prefix) through @google-cloud/storage.
// Compare-and-swap is the object generation precondition (`ifGenerationMatch`, 0 = must not exist → HTTP 412).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { Storage, type StorageOptions } from '@google-cloud/storage';
import { IntegrityError, NotFoundError, PreconditionFailedError, RegistryError } from './errors.js';
import { assertKey, type RegistryStore, type WriteOptions } from './store.js';

export interface GcsStoreOptions {
  bucket: string;
  /** Key prefix inside the bucket ("" for the bucket root). */
  prefix?: string;
  /** Another JSON API endpoint (e.g. a local fake in tests); requests to it are not authenticated. */
  apiEndpoint?: string;
  /** Objects larger than this use a resumable upload, smaller ones one multipart request (default 8 MiB). */
  resumableThreshold?: number;
  retryOptions?: StorageOptions['retryOptions'];
  /** A download that receives no bytes for this long fails (default 60 s): the client's HTTP layer (node-fetch 2)
   *  never ends a Content-Length response whose connection dropped mid-body, so without this a pull would hang. */
  downloadIdleTimeoutMs?: number;
}

interface GcsLikeError {
  code?: number | string;
  response?: { status?: number };
  message?: string;
}

const statusOf = (err: unknown): number | undefined => {
  const e = err as GcsLikeError;
  const s = typeof e?.code === 'number' ? e.code : Number(e?.code) || e?.response?.status;
  return typeof s === 'number' && Number.isFinite(s) ? s : undefined;
};

export function createGcsStore(opts: GcsStoreOptions): RegistryStore {
  const prefix = opts.prefix ? `${opts.prefix.replace(/\/+$/, '')}/` : '';
  const url = `gs://${opts.bucket}${prefix ? `/${prefix.slice(0, -1)}` : ''}`;
  const storage = new Storage({
    ...(opts.apiEndpoint ? { apiEndpoint: opts.apiEndpoint, projectId: 'gsg-local' } : {}),
    ...(opts.retryOptions ? { retryOptions: opts.retryOptions } : {}),
  });
  const bucket = storage.bucket(opts.bucket);
  const resumableThreshold = opts.resumableThreshold ?? 8 * 1024 * 1024;
  const idleMs = opts.downloadIdleTimeoutMs ?? 60_000;
  const fileOf = (key: string) => {
    assertKey(key);
    return bucket.file(prefix + key);
  };

  /** Maps a client error to the registry's typed errors, naming the key. */
  function mapError(err: unknown, key: string, expected?: string): Error {
    const status = statusOf(err);
    if (status === 404) return new NotFoundError(`${key}: no such object in ${url}`, { key });
    if (status === 412 && expected !== undefined) return new PreconditionFailedError(key, expected);
    if ((err as GcsLikeError)?.code === 'CONTENT_DOWNLOAD_MISMATCH') return new IntegrityError(`${key}: the bytes received do not match the object's crc32c in ${url}`, { key });
    return new RegistryError(`${url}/${key}: ${(err as GcsLikeError)?.message ?? String(err)}`, { key, status }, { code: 'store', cause: err });
  }

  /** The object's bytes as a stream that fails with typed errors, and also when the transfer stalls. */
  function download(key: string, onResponse?: (headers: Record<string, string | undefined>) => void): Readable {
    const source = fileOf(key).createReadStream();
    const out = new PassThrough();
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        source.destroy();
        out.destroy(new RegistryError(`${url}/${key}: download stalled (no data for ${idleMs} ms; connection lost?)`, { key }, { code: 'store' }));
      }, idleMs);
    };
    source.on('response', (res: { headers?: Record<string, string | undefined> }) => {
      arm();
      onResponse?.(res.headers ?? {});
    });
    source.on('data', arm);
    source.on('close', () => clearTimeout(timer));
    source.on('error', (err) => out.destroy(mapError(err, key)));
    out.on('close', () => clearTimeout(timer));
    source.pipe(out);
    arm();
    return out;
  }

  return {
    url,

    async read(key) {
      let generation: string | undefined;
      const stream = download(key, (headers) => {
        generation = headers['x-goog-generation'];
      });
      let data: Buffer;
      try {
        data = await buffer(stream);
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
      // Media downloads carry the generation they served in x-goog-generation (JSON API response header).
      if (!generation) throw new RegistryError(`${url}/${key}: the download response has no x-goog-generation header`, { key });
      return { data, generation };
    },

    async openRead(key) {
      return download(key);
    },

    async exists(key) {
      try {
        const [exists] = await fileOf(key).exists();
        return exists;
      } catch (err) {
        throw mapError(err, key);
      }
    },

    async write(key, source, wopts: WriteOptions = {}) {
      const size = Buffer.isBuffer(source) ? source.length : (await stat(source.path)).size;
      const file = fileOf(key);
      const options = {
        resumable: size > resumableThreshold,
        validation: 'crc32c',
        contentType: 'application/octet-stream',
        ...(wopts.ifGenerationMatch === undefined ? {} : { preconditionOpts: { ifGenerationMatch: wopts.ifGenerationMatch } }),
      };
      try {
        if (Buffer.isBuffer(source)) await file.save(source, options);
        else await pipeline(createReadStream(source.path), file.createWriteStream(options));
      } catch (err) {
        throw mapError(err, key, wopts.ifGenerationMatch);
      }
    },

    async list(keyPrefix) {
      try {
        const [files] = await bucket.getFiles({ prefix: prefix + keyPrefix, autoPaginate: true });
        return files.map((f) => f.name.slice(prefix.length)).sort();
      } catch (err) {
        throw mapError(err, keyPrefix);
      }
    },

    async delete(key, wopts: WriteOptions = {}) {
      try {
        await fileOf(key).delete(wopts.ifGenerationMatch === undefined ? {} : { ifGenerationMatch: wopts.ifGenerationMatch });
      } catch (err) {
        throw mapError(err, key, wopts.ifGenerationMatch);
      }
    },
  };
}
