// What `gsg build` records per version in $GSG_HOME/builds/<name>-<version>.json (image id, size, build time, base
// image), zod-validated on write and read; the platform reads them for gsg_image_size_bytes.
import { readdir, readFile } from 'node:fs/promises';
import { writeJsonAtomic } from '../../lib/json-file.js';
import { join } from 'node:path';
import { z } from 'zod';
import { gsgHome } from '../../lib/paths.js';
import { formatZodError } from '../../lib/zod-errors.js';

export const BuildRecord = z.object({
  /** Image reference, gsg-model-server:<name>-<version>. */
  image: z.string().min(1),
  imageId: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  modelName: z.string().min(1),
  version: z.string().min(1),
  /** sha256 of model.onnx (the version's identity). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  sizeBytes: z.number().int().positive(),
  buildSeconds: z.number().nonnegative(),
  baseImage: z.string().min(1),
  runtimeBaseImage: z.string().min(1),
  /** When the image was built (ISO 8601). */
  createdAt: z.iso.datetime({ offset: true }),
  /** git commit of the sources (suffix "-dirty" when the context's files differ from it), or "unknown". */
  revision: z.string(),
  /** Digest of the build context + base images; an image with the same key is reused instead of rebuilt. */
  buildKey: z.string(),
  /** True when an existing image was reused (no build ran). */
  reused: z.boolean(),
});
export type BuildRecord = z.infer<typeof BuildRecord>;

export function buildsDir(home: string = gsgHome()): string {
  return join(home, 'builds');
}

export function buildRecordPath(modelName: string, version: string, home?: string): string {
  return join(buildsDir(home), `${modelName}-${version}.json`);
}

/** Writes the record atomically (temp file + rename), so a reader never sees half a file. */
export async function writeBuildRecord(record: BuildRecord, home?: string): Promise<string> {
  const file = buildRecordPath(record.modelName, record.version, home);
  await writeJsonAtomic(file, BuildRecord.parse(record), 0o644);
  return file;
}

/**
 * Every valid build record, oldest first. A file that is not valid JSON or does not match the schema is skipped and
 * reported through `onInvalid` (file and reason), so one bad file never hides the others.
 */
export async function readBuildRecords(home?: string, onInvalid: (file: string, reason: string) => void = () => {}): Promise<BuildRecord[]> {
  const dir = buildsDir(home);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort();
  const records: BuildRecord[] = [];
  for (const name of names) {
    const file = join(dir, name);
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      onInvalid(file, `not valid JSON (${(err as Error).message})`);
      continue;
    }
    const parsed = BuildRecord.safeParse(raw);
    if (parsed.success) records.push(parsed.data);
    else onInvalid(file, formatZodError(parsed.error));
  }
  return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}
