// The npm install of the image's build stage, cut to what the model server needs: a package.json with only the
// server's direct dependencies (those its bundle imports, esbuild to bundle, swagger-ui-dist for /docs) and a
// package-lock.json pruned to their transitive closure. `npm ci` then downloads half as much, and the layer cache
// of that step survives dependency changes elsewhere in the project.
import { z } from 'zod';
import { GsgError } from '../../lib/errors.js';

const LockPackage = z
  .object({
    version: z.string().optional(),
    dependencies: z.record(z.string(), z.string()).optional(),
    optionalDependencies: z.record(z.string(), z.string()).optional(),
    peerDependencies: z.record(z.string(), z.string()).optional(),
    peerDependenciesMeta: z.record(z.string(), z.object({ optional: z.boolean().optional() })).optional(),
    dev: z.boolean().optional(),
    link: z.boolean().optional(),
  })
  .loose();
const Lockfile = z.object({ lockfileVersion: z.number().int().min(2), packages: z.record(z.string(), LockPackage) }).loose();
const PackageJson = z.object({ name: z.string(), version: z.string(), dependencies: z.record(z.string(), z.string()).default({}) }).loose();

/** Packages the image always needs besides what the bundle imports: the bundler, and /docs's static assets. */
export const BUILD_STAGE_PACKAGES = ['esbuild', 'onnxruntime-node', 'swagger-ui-dist'];

/** Top-level package names of node_modules paths (e.g. from esbuild's metafile inputs). */
export function packageNames(paths: string[]): string[] {
  const names = new Set<string>();
  for (const p of paths) {
    const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(p);
    if (m) names.add(m[1]!);
  }
  return [...names].sort();
}

/** Where node would find `dep` required from the package installed at `from` ("" = the root). */
function resolveFrom(packages: Record<string, unknown>, from: string, dep: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir ? `${dir}/node_modules/${dep}` : `node_modules/${dep}`;
    if (candidate in packages) return candidate;
    if (!dir) return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i === -1 ? '' : dir.slice(0, i);
  }
}

/**
 * A package.json + package-lock.json pair for installing only `keep` (names among package.json's dependencies),
 * the direct dependencies among `needed` (packages the bundle imports), and everything they depend on. Throws when
 * a kept name is not a dependency, the lockfile lacks a package, or a needed package would not be installed.
 */
export function npmSubset(packageJsonText: string, lockfileText: string, keep: string[], needed: string[] = []): { packageJson: string; lockfile: string } {
  const pkg = PackageJson.parse(JSON.parse(packageJsonText));
  const lock = Lockfile.parse(JSON.parse(lockfileText));
  const dependencies: Record<string, string> = {};
  for (const name of [...new Set(keep)].sort()) {
    const range = pkg.dependencies[name];
    if (!range) throw new GsgError(`image build: ${name} is not in package.json's dependencies`, { context: { package: name } });
    dependencies[name] = range;
  }
  // Packages the bundle imports that are not direct dependencies must arrive through the kept ones.
  for (const name of needed) if (pkg.dependencies[name]) dependencies[name] = pkg.dependencies[name];
  const sorted = Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b)));
  const kept = new Set<string>();
  const queue: [string, string][] = Object.keys(sorted).map((d) => ['', d]);
  while (queue.length) {
    const [from, dep] = queue.shift()!;
    const at = resolveFrom(lock.packages, from, dep);
    if (!at) {
      const optional = from && (lock.packages[from]?.optionalDependencies?.[dep] || lock.packages[from]?.peerDependencies?.[dep]);
      if (optional) continue; // an optional or peer dependency that was never installed
      throw new GsgError(`image build: package-lock.json has no ${dep} (needed by ${from || 'package.json'}); run npm install`, { context: { package: dep } });
    }
    if (kept.has(at)) continue;
    kept.add(at);
    const info = lock.packages[at]!;
    const peers = Object.keys(info.peerDependencies ?? {}).filter((p) => !info.peerDependenciesMeta?.[p]?.optional);
    for (const d of [...Object.keys(info.dependencies ?? {}), ...Object.keys(info.optionalDependencies ?? {}), ...peers]) queue.push([at, d]);
  }
  // (A dev-only package the bundle picked up from a try/catch require, e.g. debug -> supports-color, is not
  // installed by `npm ci --omit=dev` either: the bundler leaves that require unresolved.)
  const installed = new Set(packageNames([...kept]));
  const missing = needed.filter((n) => !installed.has(n) && lock.packages[`node_modules/${n}`]?.dev !== true);
  if (missing.length) throw new GsgError(`image build: the server bundle imports ${missing.join(', ')}, which no dependency in package.json brings`, { context: { packages: missing } });
  const root = { name: pkg.name, version: pkg.version, dependencies: sorted };
  const packages: Record<string, unknown> = { '': root };
  for (const path of Object.keys(lock.packages).filter((p) => kept.has(p)).sort()) packages[path] = lock.packages[path];
  const packageJson = { name: pkg.name, version: pkg.version, private: true, ...(typeof pkg.type === 'string' ? { type: pkg.type } : {}), dependencies: sorted };
  return {
    packageJson: JSON.stringify(packageJson, null, 2) + '\n',
    lockfile: JSON.stringify({ name: pkg.name, version: pkg.version, lockfileVersion: lock.lockfileVersion, requires: true, packages }, null, 2) + '\n',
  };
}
