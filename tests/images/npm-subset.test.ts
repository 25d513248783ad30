// The npm install of the image's build stage, cut to the server's dependencies: the subset keeps what was asked and
// its whole closure (nested versions where node would find them), nothing else, and npm ci accepts the pair.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/paths.js';
import { BUILD_STAGE_PACKAGES, npmSubset } from '../../infra/images/npm-subset.js';

const run = promisify(execFile);
const pkgJson = (deps: Record<string, string>) => JSON.stringify({ name: 'app', version: '1.0.0', dependencies: deps });
const lockfile = (packages: Record<string, object>) => JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, packages: { '': {}, ...packages } });
const kept = (subset: { lockfile: string }) => Object.keys((JSON.parse(subset.lockfile) as { packages: object }).packages).filter(Boolean).sort();

describe('npm subset of the image build stage', () => {
  it('keeps the asked packages and their closure, with nested versions where node resolves them', () => {
    const subset = npmSubset(
      pkgJson({ a: '^1', c: '^1' }),
      lockfile({
        'node_modules/a': { version: '1.0.0', dependencies: { b: '^2' } },
        'node_modules/a/node_modules/b': { version: '2.0.0', dependencies: { d: '^1' } },
        'node_modules/b': { version: '1.0.0' },
        'node_modules/c': { version: '1.0.0', dependencies: { b: '^1' } },
        'node_modules/d': { version: '1.0.0', optionalDependencies: { 'not-installed': '^1' } },
      }),
      ['a'],
    );
    expect(kept(subset)).toEqual(['node_modules/a', 'node_modules/a/node_modules/b', 'node_modules/d']);
    expect(JSON.parse(subset.packageJson)).toMatchObject({ name: 'app', dependencies: { a: '^1' } });
  });

  it('adds the bundled packages that are direct dependencies, and fails on one no kept dependency brings', () => {
    const lock = lockfile({ 'node_modules/a': { version: '1.0.0' }, 'node_modules/x': { version: '1.0.0' }, 'node_modules/tool': { version: '1.0.0', dev: true } });
    expect(kept(npmSubset(pkgJson({ a: '^1', x: '^1' }), lock, ['a'], ['x', 'tool']))).toEqual(['node_modules/a', 'node_modules/x']);
    expect(() => npmSubset(pkgJson({ a: '^1' }), lock, ['a'], ['x'])).toThrow(/the server bundle imports x, which no dependency in package.json brings/);
  });

  it('names a kept package that is not a dependency, and a dependency missing from the lockfile', () => {
    expect(() => npmSubset(pkgJson({ a: '^1' }), lockfile({}), ['zz'])).toThrow(/zz is not in package.json's dependencies/);
    expect(() => npmSubset(pkgJson({ a: '^1' }), lockfile({}), ['a'])).toThrow(/package-lock.json has no a \(needed by package.json\)/);
  });

  it("on the project's lockfile: drops the CLI, registry and Docker dependencies, and npm ci accepts the pair", async () => {
    const root = projectRoot();
    const subset = npmSubset(await readFile(join(root, 'package.json'), 'utf8'), await readFile(join(root, 'package-lock.json'), 'utf8'), BUILD_STAGE_PACKAGES, ['express', 'pino', 'prom-client', 'zod']);
    expect(Object.keys(JSON.parse(subset.packageJson).dependencies)).toEqual(['esbuild', 'express', 'onnxruntime-node', 'pino', 'prom-client', 'swagger-ui-dist', 'zod']);
    for (const gone of ['@google-cloud/storage', 'dockerode', 'commander', 'vitest', 'typescript']) expect(kept(subset)).not.toContain(`node_modules/${gone}`);
    const dir = await mkdtemp(join(tmpdir(), 'gsg-npm-subset-'));
    try {
      await writeFile(join(dir, 'package.json'), subset.packageJson);
      await writeFile(join(dir, 'package-lock.json'), subset.lockfile);
      await writeFile(join(dir, '.npmrc'), await readFile(join(root, '.npmrc')));
      const { stdout } = await run('npm', ['ci', '--dry-run', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, timeout: 60_000 });
      expect(stdout).toMatch(/added \d+ packages/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
