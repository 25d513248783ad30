// The manifest of a registry version: every file's size and sha256 plus the validated metadata. Writing it (if absent)
// is the one step that commits a version; its digest (over the file list) names the version's content everywhere.
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';
import { BadInputError } from '../lib/errors.js';
import { parseJsonText } from '../lib/json-file.js';
import { ModelMetadata, ModelName, VersionString, sha256File } from '../models/artifact.js';
import { IntegrityError } from './errors.js';
import { isKeyPath } from './store.js';

/** A relative path inside a version directory: `/`-separated, no hidden or `..` segments (a valid store key path). */
export const RelPath = z.string().refine(isKeyPath, 'must be a relative path without hidden or ".." segments');

export const FileEntry = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex sha256'), size: z.number().int().nonnegative() });
export type FileEntry = z.infer<typeof FileEntry>;

export const Manifest = z.object({
  schema_version: z.literal(1),
  name: ModelName,
  version: VersionString,
  pushed_at: z.iso.datetime({ offset: true }),
  pushed_by: z.string(),
  files: z.record(RelPath, FileEntry),
  metadata: ModelMetadata,
});
export type Manifest = z.infer<typeof Manifest>;

/** Content identity of a version: sha256 over its sorted (path, sha256, size) list. Names the cache directory. */
export function manifestDigest(files: Record<string, FileEntry>): string {
  const lines = Object.keys(files)
    .sort()
    .map((p) => `${p}\0${files[p]!.sha256}\0${files[p]!.size}\n`);
  return createHash('sha256').update(lines.join('')).digest('hex');
}

export function totalSize(files: Record<string, FileEntry>): number {
  return Object.values(files).reduce((n, f) => n + f.size, 0);
}

/** Parses a stored manifest; a bad field means the registry itself is damaged (IntegrityError naming the field). */
export function parseManifest(data: Buffer, where: string): Manifest {
  return parseJsonText(data.toString('utf8'), Manifest, where, (message) => new IntegrityError(message, { where }));
}

/** Every regular file below `dir` (hidden names skipped) with its size and sha256, keyed by `/`-separated path. */
export async function scanFiles(dir: string): Promise<Record<string, FileEntry>> {
  const files: Record<string, FileEntry> = {};
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const paths = entries
    .map((e) => join(e.parentPath, e.name))
    .filter((p) => !relative(dir, p).split(sep).some((s) => s.startsWith('.')))
    .sort();
  for (const path of paths) {
    const st = await stat(path);
    if (!st.isFile()) continue;
    const rel = relative(dir, path).split(sep).join('/');
    if (!RelPath.safeParse(rel).success) throw new BadInputError(`${path}: file name not allowed in a registry version (${RelPath.description ?? 'letters, digits, "_", "." and "-"'})`, { file: path });
    files[rel] = { sha256: await sha256File(path), size: st.size };
  }
  return files;
}
