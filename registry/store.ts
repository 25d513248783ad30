// The RegistryStore contract: a minimal object store (keys → bytes with a generation) that the Registry is built on.
// Implemented by FsStore (file://) and GcsStore (gs://bucket/prefix); one contract test suite proves both.
import type { Readable } from 'node:stream';
import { BadInputError } from '../lib/errors.js';

/**
 * Object-store semantics, GCS style:
 * - every write replaces the whole object and gives it a new generation (an opaque string);
 * - `ifGenerationMatch` makes a write/delete conditional: `'0'` = the object must not exist, otherwise the
 *   current generation must equal it; a failed precondition throws `PreconditionFailedError` and changes nothing;
 * - a missing key: `read` → undefined, `openRead`/`delete` → `NotFoundError`.
 * Keys are `/`-separated segments of `[A-Za-z0-9_][A-Za-z0-9_.-]*` (no empty, hidden or `..` segments).
 */
export interface RegistryStore {
  /** Where the store lives (`file:///abs/path`, `gs://bucket/prefix`), for messages. */
  readonly url: string;
  /** Whole object and its generation (small objects: manifests, aliases). */
  read(key: string): Promise<{ data: Buffer; generation: string } | undefined>;
  /** Streams an object's bytes (large objects: model files). */
  openRead(key: string): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  write(key: string, source: Buffer | { path: string }, opts?: WriteOptions): Promise<void>;
  /** Every key starting with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  delete(key: string, opts?: WriteOptions): Promise<void>;
}

export interface WriteOptions {
  /** `'0'`: must not exist; otherwise the generation the object must have now. */
  ifGenerationMatch?: string;
}

export const ABSENT = '0';

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** True when `path` is `/`-separated segments of `[A-Za-z0-9_][A-Za-z0-9_.-]*` (no empty, hidden or `..` segments). */
export function isKeyPath(path: string): boolean {
  return path.split('/').every((s) => SEGMENT.test(s) && s !== '..');
}

/** Throws unless `key` is a valid store key (see RegistryStore). */
export function assertKey(key: string): void {
  if (!isKeyPath(key)) throw new BadInputError(`invalid registry object key "${key}"`, { key });
}

/** Parses `GSG_REGISTRY`: `file:///abs/path` or `gs://bucket[/prefix]`. */
export function parseStoreUrl(url: string): { kind: 'file'; root: string } | { kind: 'gcs'; bucket: string; prefix: string } {
  if (url.startsWith('file://')) {
    let root: string;
    try {
      root = decodeURIComponent(new URL(url).pathname);
    } catch {
      root = '';
    }
    if (!root.startsWith('/')) throw new BadInputError(`GSG_REGISTRY: "${url}" must be an absolute file:///path`, { url });
    return { kind: 'file', root: root.length > 1 ? root.replace(/\/+$/, '') : root };
  }
  const gs = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,220}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (gs) {
    const prefix = (gs[2] ?? '').replace(/^\/+|\/+$/g, '');
    if (prefix) assertKey(prefix);
    return { kind: 'gcs', bucket: gs[1]!, prefix };
  }
  throw new BadInputError(`GSG_REGISTRY: "${url}" is not a registry URL (use file:///path or gs://bucket/prefix)`, { url });
}
