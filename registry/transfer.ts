// Verified transfer of a version's files into a directory: each file is hashed while it is written into a temporary
// directory next to the destination, which is renamed into place only when every file matched its manifest entry.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BadInputError, errorMessage } from '../lib/errors.js';
import { METADATA_FILE, parseMetadata } from '../models/artifact.js';
import { IntegrityError, NotFoundError, RegistryError } from './errors.js';
import type { FileEntry } from './manifest.js';

export type OpenFile = (rel: string, entry: FileEntry) => Promise<Readable>;

/** Runs `fn` over `items` with at most `limit` in flight; the first failure rejects (others are awaited). */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      await fn(item).catch((err: unknown) => {
        failure ??= err;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure;
}

async function fetchVerified(open: OpenFile, rel: string, entry: FileEntry, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    await pipeline(await open(rel, entry), meter, createWriteStream(to));
  } catch (err) {
    if (err instanceof IntegrityError) throw new IntegrityError(`${rel}: ${err.message}`, { ...err.context, file: rel });
    if (err instanceof NotFoundError) throw new IntegrityError(`${rel}: its stored object is missing (${err.message})`, { ...err.context, file: rel });
    throw new RegistryError(`${rel}: download interrupted (${errorMessage(err)})`, { file: rel }, { cause: err });
  }
  const actual = hash.digest('hex');
  if (actual !== entry.sha256 || size !== entry.size) {
    throw new IntegrityError(`${rel}: sha256 mismatch (manifest ${entry.sha256}, downloaded ${actual}${size !== entry.size ? `; size manifest ${entry.size}, downloaded ${size}` : ''})`, {
      file: rel,
      expected: entry.sha256,
      actual,
    });
  }
}

const partialPrefix = (dest: string) => `.${basename(dest)}.partial-`;

/** Removes temporary directories of earlier transfers into `dest` that died (killed process) `olderThanMs` ago or more. */
export async function removeStalePartials(dest: string, olderThanMs: number): Promise<void> {
  const parent = dirname(dest);
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    if (!name.startsWith(partialPrefix(dest))) continue;
    const st = await stat(join(parent, name)).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs >= olderThanMs) await rm(join(parent, name), { recursive: true, force: true });
  }
}

/**
 * Writes every file of `files` into `dest` (which must not exist) through `open`, verified.
 * On any failure nothing is left at `dest` and the temporary directory is removed.
 * With `existingIsFine` (a content-addressed cache) a `dest` created concurrently by someone else counts as success.
 */
export async function transferVerified(files: Record<string, FileEntry>, open: OpenFile, dest: string, opts: { existingIsFine?: boolean } = {}): Promise<void> {
  if (await stat(dest).then(() => true, () => false)) {
    if (opts.existingIsFine) return;
    throw new BadInputError(`--to: ${dest} already exists (pull into a new directory)`, { dest });
  }
  await mkdir(dirname(dest), { recursive: true });
  const tmp = join(dirname(dest), `${partialPrefix(dest)}${randomBytes(6).toString('hex')}`);
  await mkdir(tmp);
  try {
    await forEachLimited(Object.keys(files), 4, (rel) => fetchVerified(open, rel, files[rel]!, join(tmp, ...rel.split('/'))));
    if (files[METADATA_FILE]) {
      const where = `${METADATA_FILE} (pulled)`;
      try {
        parseMetadata(await readFile(join(tmp, METADATA_FILE), 'utf8'), where);
      } catch (err) {
        throw new IntegrityError(errorMessage(err), { file: METADATA_FILE });
      }
    }
    try {
      await rename(tmp, dest);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (!(opts.existingIsFine && (code === 'ENOTEMPTY' || code === 'EEXIST'))) throw err;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
