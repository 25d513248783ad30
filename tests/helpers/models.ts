// The bundled model as tests use it: the newest bundled version directory (found at run time, never a fixed version),
// and copies of a version directory under another version string. Loads no model runtime.
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundledModelsDir } from '../../lib/paths.js';
import { newestVersionDir } from '../../models/artifact.js';

/** The newest bundled model version directory. */
export async function bundledVersionDir(): Promise<string> {
  const dir = await newestVersionDir(bundledModelsDir());
  if (dir === undefined) throw new Error(`no model version under ${bundledModelsDir()}`);
  return dir;
}

/** The model version directory the serving tests load: GSG_TEST_MODEL_DIR, else the newest bundled version. */
export async function testModelDir(): Promise<string> {
  return process.env.GSG_TEST_MODEL_DIR || bundledVersionDir();
}

/** Copies the version directory `src` to `destDir` with metadata.json's version set to `version`; returns `destDir`. */
export async function copyVersionAs(src: string, destDir: string, version: string): Promise<string> {
  await cp(src, destDir, { recursive: true });
  const metaFile = join(destDir, 'metadata.json');
  const meta = JSON.parse(await readFile(metaFile, 'utf8')) as { version: string };
  meta.version = version;
  await writeFile(metaFile, JSON.stringify(meta, null, 2));
  return destDir;
}
