// The build context `gsg build` sends: only what the Dockerfile copies (lockfile, build script, the server's own
// sources, one model version at model/), and a digest that changes with the model and nothing else outside it.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/paths.js';
import { modelServerContext, type BuildContext } from '../../infra/images/context.js';
import { writeModelVersion } from '../helpers/model-fixture.js';

describe('model-server build context', () => {
  const root = projectRoot();
  let tmp: string;
  let modelDir: string;
  let ctx: BuildContext;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'gsg-context-'));
    modelDir = (await writeModelVersion(join(tmp, '2026-01-01.001'), { version: '2026-01-01.001', extraFiles: { 'figures/pr-curve.svg': '<svg/>' } })).dir;
    ctx = await modelServerContext(root, modelDir);
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  const names = () => ctx.entries.map((e) => e.name);

  it('holds the Dockerfile, package.json and lockfile, npm config, the build script and the runtime-deps script', () => {
    expect(names()).toEqual(expect.arrayContaining(['services/model-server/Dockerfile', 'package.json', 'package-lock.json', '.npmrc', 'scripts/build.mjs', 'infra/images/runtime-deps.mjs']));
  });

  it('holds the server entry and the shared modules it imports, but no tests, data, node_modules, dist or other services', () => {
    expect(names()).toEqual(expect.arrayContaining(['services/model-server/src/main.ts', 'models/artifact.ts', 'lib/errors.ts']));
    for (const n of names()) {
      expect(n).not.toMatch(/^(tests|node_modules|dist|dist-image|\.git|router|registry|bench|docs)\//);
      expect(n).not.toMatch(/\.test\.ts$|sentiment-logreg/);
    }
  });

  it("carries a package.json cut to the server's dependencies, whatever else the project depends on", () => {
    const pkg = ctx.entries.find((e) => e.name === 'package.json');
    const deps = Object.keys((JSON.parse(pkg && 'content' in pkg ? String(pkg.content) : '{}') as { dependencies: object }).dependencies);
    expect(deps).toEqual(expect.arrayContaining(['esbuild', 'express', 'onnxruntime-node', 'pino', 'prom-client', 'swagger-ui-dist', 'zod']));
    expect(deps).not.toContain('@google-cloud/storage');
    expect(deps).not.toContain('dockerode');
  });

  it('puts exactly the one model version at model/, subdirectories included', () => {
    const model = names().filter((n) => n.startsWith('model/')).sort();
    expect(model).toEqual(['model/explain.json', 'model/figures', 'model/figures/pr-curve.svg', 'model/metadata.json', 'model/model.onnx', 'model/report.md']);
  });

  it('has a digest that changes when the model changes', async () => {
    const copy = join(tmp, 'copy');
    await cp(modelDir, copy, { recursive: true });
    expect((await modelServerContext(root, copy)).digest).toBe(ctx.digest);
    await writeFile(join(copy, 'model.onnx'), 'other bytes');
    expect((await modelServerContext(root, copy)).digest).not.toBe(ctx.digest);
  });
});
