// The Docker build context of a model-server image, chosen file by file: the Dockerfile, npm config with a
// package.json/lockfile cut to the server's dependencies, the build script, exactly the sources the server bundle
// imports (esbuild's metafile), and one model version at model/. Its digest identifies "this server code + this model", so an unchanged image is reused.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sha256File } from '../../models/artifact.js';
import { GsgError } from '../../lib/errors.js';
import { BUILD_STAGE_PACKAGES, npmSubset, packageNames } from './npm-subset.js';
import type { TarEntry } from './tar.js';

export const DOCKERFILE = 'services/model-server/Dockerfile';
/** Files the Dockerfile copies besides the server sources and the npm subset (repository-relative). */
const FIXED_FILES = ['.npmrc', 'scripts/build.mjs', 'infra/images/runtime-deps.mjs', DOCKERFILE];
/** Where the Dockerfile's build stage copies sources from; a server import outside them would break the image. */
const SOURCE_PATTERNS = [/^lib\/.+\.ts$/, /^models\/[^/]+\.ts$/, /^services\/model-server\/src\/.+\.ts$/];
/** The model directory's path inside the context (the Dockerfile's MODEL_DIR default). */
export const CONTEXT_MODEL_DIR = 'model';

export interface BuildContext {
  entries: TarEntry[];
  /** sha256 over every entry's name, mode and content. */
  digest: string;
  /** Repository-relative files in the context (for the git revision's dirty check). */
  sourceFiles: string[];
}

/** What the server bundle is made of: repository-relative .ts files, and the npm packages it imports. */
export async function serverInputs(root: string): Promise<{ sources: string[]; packages: string[] }> {
  const esbuild = await import('esbuild');
  // The bundle's own options (from the build script under `root`, as the Dockerfile runs it), so this list cannot
  // drift from what the image bundles.
  const build = (await import(pathToFileURL(join(root, 'scripts', 'build.mjs')).href)) as typeof import('../../scripts/build.mjs');
  const result = await esbuild.build({ ...build.serverBundleOptions(root), absWorkingDir: root, write: false, metafile: true, logLevel: 'silent' });
  const inputs = Object.keys(result.metafile.inputs).map((f) => f.split(sep).join('/'));
  const sources = inputs.filter((f) => !f.includes('node_modules/')).sort();
  const outside = sources.filter((f) => !SOURCE_PATTERNS.some((p) => p.test(f)));
  if (outside.length) {
    throw new GsgError(`image build: the server imports ${outside.join(', ')}, which ${DOCKERFILE} does not copy into the build stage`, { context: { files: outside } });
  }
  return { sources, packages: packageNames(inputs) };
}

/** Context for one model version directory (its files go to model/). */
export async function modelServerContext(root: string, modelDir: string): Promise<BuildContext> {
  const { sources, packages } = await serverInputs(root);
  const npm = npmSubset(await readFile(join(root, 'package.json'), 'utf8'), await readFile(join(root, 'package-lock.json'), 'utf8'), BUILD_STAGE_PACKAGES, packages);
  const copied = [...FIXED_FILES, ...sources];
  const entries: TarEntry[] = [
    { type: 'file', name: 'package.json', content: npm.packageJson },
    { type: 'file', name: 'package-lock.json', content: npm.lockfile },
    ...copied.map((f): TarEntry => ({ type: 'file', name: f, source: join(root, f), mode: 0o644 })),
  ];
  const sourceFiles = ['package.json', 'package-lock.json', ...copied];
  entries.push(...(await modelEntries(modelDir, CONTEXT_MODEL_DIR)));
  return { entries, digest: await contextDigest(entries), sourceFiles };
}

/** Every file and directory under `dir`, named `name/...` (sorted, so the digest does not depend on readdir order). */
export async function modelEntries(dir: string, name: string): Promise<TarEntry[]> {
  const entries: TarEntry[] = [{ type: 'directory', name }];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory()) entries.push(...(await modelEntries(join(dir, e.name), `${name}/${e.name}`)));
    else if (e.isFile()) entries.push({ type: 'file', name: `${name}/${e.name}`, source: join(dir, e.name), mode: 0o644 });
  }
  return entries;
}

/** sha256 over every entry's type, name, mode and content: the identity of a build context. */
export async function contextDigest(entries: TarEntry[]): Promise<string> {
  const hash = createHash('sha256');
  for (const e of entries) {
    hash.update(`${e.type} ${e.name} ${'mode' in e ? (e.mode ?? '') : ''}\n`);
    if (e.type === 'file') hash.update('source' in e ? await sha256File(e.source) : createHash('sha256').update(e.content).digest('hex'));
  }
  return hash.digest('hex');
}

/** Size in bytes of the files a context sends (for the progress line). */
export async function contextBytes(entries: TarEntry[]): Promise<number> {
  let total = 0;
  for (const e of entries) if (e.type === 'file') total += 'source' in e ? (await stat(e.source)).size : Buffer.byteLength(e.content);
  return total;
}
