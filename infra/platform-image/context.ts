// The Docker build context of the platform image, chosen file by file: its Dockerfile, the lockfile and npm config,
// the pruning script, the build script and bin/, every TypeScript source the compiled dist/ is made of (the list
// `scripts/build.mjs` compiles, less the benchmarks) and the bundled model versions. Its digest identifies "this
// code + these models", so an unchanged image is reused instead of rebuilt.
import { relative, sep } from 'node:path';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundledModelsDir } from '../../lib/paths.js';
import { contextDigest, modelEntries, type BuildContext } from '../images/context.js';
import type { TarEntry } from '../images/tar.js';

export const PLATFORM_DOCKERFILE = 'infra/platform-image/Dockerfile';
/** Files the Dockerfile copies besides the sources and the models (repository-relative). */
const FIXED_FILES = ['package.json', 'package-lock.json', '.npmrc', 'scripts/build.mjs', 'bin/gsg.mjs', 'infra/platform-image/prune-deps.mjs', PLATFORM_DOCKERFILE];
/** Where the bundled model versions go in the context (and in the image, under /app). */
export const CONTEXT_MODELS_DIR = 'models/sentiment-logreg';

/** Source directories `scripts/build.mjs` compiles that the platform does not run (the build skips a missing one). */
const NOT_SHIPPED = ['bench/'];

/** The repository-relative .ts files `scripts/build.mjs` compiles (tests, .d.ts and the benchmarks excluded), sorted. */
export async function platformSources(root: string): Promise<string[]> {
  // Loaded from the repository at run time: the same list the build stage compiles, from sources or dist/ alike.
  const build = (await import(pathToFileURL(join(root, 'scripts', 'build.mjs')).href)) as typeof import('../../scripts/build.mjs');
  return build
    .listSources()
    .files.map((f) => relative(build.ROOT, f).split(sep).join('/'))
    .filter((f) => !NOT_SHIPPED.some((d) => f.startsWith(d)))
    .sort();
}

/** Context for the platform image built from the repository at `root`. */
export async function platformContext(root: string, modelsDir = bundledModelsDir()): Promise<BuildContext> {
  const sourceFiles = [...FIXED_FILES, ...(await platformSources(root))];
  const entries: TarEntry[] = sourceFiles.map((f) => ({ type: 'file', name: f, source: join(root, f), mode: f.startsWith('bin/') ? 0o755 : 0o644 }));
  entries.push({ type: 'directory', name: 'models' }, ...(await modelEntries(modelsDir, CONTEXT_MODELS_DIR)));
  return { entries, digest: await contextDigest(entries), sourceFiles };
}
