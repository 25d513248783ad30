// Turns what a user passes as --model (a directory or a registry ref `name@version` / `name:alias`) into a verified
// local model directory: directories are used in place, refs are pulled through the registry's content-hash cache.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BadInputError } from '../lib/errors.js';
import { readMetadata, type ModelMetadata } from '../models/artifact.js';
import { parseRef } from './refs.js';

export interface ResolvedModel {
  dir: string;
  /** The ref as given, and what it resolved to. */
  ref: string;
  name: string;
  version: string;
  metadata: ModelMetadata;
  /** Set for registry refs: the alias the ref went through, the content digest (cache key), and whether the cache already had it. */
  alias?: string;
  digest?: string;
  cached?: boolean;
}

export async function resolveModelDir(refOrDir: string, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedModel> {
  const ref = parseRef(refOrDir);
  if (ref.kind === 'dir') {
    const dir = resolve(ref.path);
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new BadInputError(`--model: ${refOrDir} is not a model directory (nor a name@version / name:alias ref)`, { ref: refOrDir });
    // The server verifies every file when it loads; here only the metadata is read (and validated).
    const metadata = await readMetadata(dir);
    return { dir, ref: refOrDir, name: metadata.model_name, version: metadata.version, metadata };
  }
  // Loaded lazily so directory refs never load registry/GCS code.
  const { openRegistry } = await import('./registry.js');
  const m = await (await openRegistry(env)).materialize(refOrDir);
  return { dir: m.dir, ref: refOrDir, name: m.name, version: m.version, metadata: m.metadata, digest: m.digest, cached: m.cached, ...(m.alias ? { alias: m.alias } : {}) };
}
