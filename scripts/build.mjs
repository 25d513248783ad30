// Compiles the TypeScript sources to dist/ with esbuild (transpile only; `npm run typecheck` type-checks).
// `--image` instead bundles the model server into one file for the container image (only onnxruntime-node stays external).
import { readdirSync, statSync, mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SOURCE_DIRS = ['lib', 'models', 'services', 'router', 'registry', 'infra', 'bench'];
const STAMP = join(ROOT, 'dist', '.build-stamp');

/** Every .ts source file (tests and the bundled model directories excluded), with the newest mtime. */
export function listSources() {
  const files = [];
  let newest = 0;
  const walk = (dir) => {
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name === 'node_modules' || e.name === 'sentiment-logreg') continue;
        walk(p);
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !e.name.endsWith('.test.ts')) {
        files.push(p);
        const m = statSync(p).mtimeMs;
        if (m > newest) newest = m;
      }
    }
  };
  for (const d of SOURCE_DIRS) walk(join(ROOT, d));
  return { files, newest };
}

/** True when dist/ is missing or older than any source (or the set of sources changed). */
export function isStale() {
  if (!existsSync(STAMP)) return true;
  const { files, newest } = listSources();
  if (files.length === 0) return false; // a deployed tree without sources
  try {
    const stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
    return stamp.newest < newest || stamp.count !== files.length;
  } catch {
    return true;
  }
}

export async function buildDist() {
  const esbuild = await import('esbuild');
  const { files, newest } = listSources();
  await esbuild.build({
    entryPoints: files,
    outdir: join(ROOT, 'dist'),
    outbase: ROOT,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  mkdirSync(dirname(STAMP), { recursive: true });
  writeFileSync(STAMP, JSON.stringify({ newest, count: files.length }));
  return files.length;
}

/**
 * zod's namespace re-exports every locale (`z.locales.*`, ~300 KB of the bundle) although only English, zod's
 * default, is ever configured; the server bundle gets a `locales` module holding just `en`, so V8 does not parse
 * the rest on every start.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: join(dirname(args.importer), '..', 'locales', 'index.js'), namespace: 'zod-locales' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({ contents: "export { default as en } from './en.js';", resolveDir: dirname(args.path) }));
  },
};

/**
 * esbuild writes every non-ASCII character as an escape, except inside String.raw templates (an escape would change
 * their value), so a single `String.raw` with "–" or "«" (preprocessing.ts has them) made the whole bundle a
 * two-byte string in V8: twice the memory for the source V8 keeps (~1.4 MB more) and slower scanning. Such files
 * get their template literals lowered to plain strings (same values), which esbuild can escape.
 */
const asciiOnly = {
  name: 'ascii-only',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes('node_modules')) return undefined;
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('String.raw') || !/[^\x00-\x7f]/.test(source)) return undefined;
      const esbuild = await import('esbuild');
      const { code } = await esbuild.transform(source, { loader: 'ts', format: 'esm', target: 'node20', supported: { 'template-literal': false }, sourcefile: args.path });
      return { contents: code, loader: 'js' };
    });
  },
};

/** The model server's entry (repository-relative). */
export const SERVER_ENTRY = 'services/model-server/src/main.ts';

/**
 * The esbuild options that decide what the server bundle is made of (entry, what stays external, format, target):
 * bundleServer builds with them, and the image build lists the bundle's inputs with them (infra/images/context.ts).
 */
export function serverBundleOptions(root = ROOT) {
  return { entryPoints: [join(root, SERVER_ENTRY)], bundle: true, format: 'esm', platform: 'node', target: 'node20', external: ['onnxruntime-node'] };
}

/** One-file bundle of the model server for the image; onnxruntime-node is the only runtime dependency left. */
export async function bundleServer(outfile = join(ROOT, 'dist-image', 'server.mjs')) {
  const esbuild = await import('esbuild');
  await esbuild.build({
    ...serverBundleOptions(),
    outfile,
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [zodEnglishOnly, asciiOnly],
    banner: { js: "import { createRequire as __gsgCreateRequire } from 'node:module'; const require = __gsgCreateRequire(import.meta.url);" },
  });
  return relative(ROOT, outfile);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = Date.now();
  if (process.argv.includes('--image')) {
    const out = await bundleServer(process.argv[process.argv.indexOf('--image') + 1]?.startsWith('--') ? undefined : process.argv[process.argv.indexOf('--image') + 1]);
    console.log(`bundled model server -> ${out} in ${Date.now() - t0} ms`);
  } else {
    const n = await buildDist();
    console.log(`compiled ${n} files -> dist/ in ${Date.now() - t0} ms`);
  }
}
