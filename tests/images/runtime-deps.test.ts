// infra/images/runtime-deps.mjs, run by the Dockerfile's build stage: the runtime node_modules it assembles hold
// onnxruntime-node for this platform's CPU only (+ onnxruntime-common) and just the swagger-ui files /docs serves.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/paths.js';

const run = promisify(execFile);

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  return out.sort();
}

describe('runtime node_modules of the image', () => {
  let out: string;
  let all: string[];

  beforeAll(async () => {
    out = join(await mkdtemp(join(tmpdir(), 'gsg-runtime-deps-')), 'node_modules');
    await run(process.execPath, [join(projectRoot(), 'infra/images/runtime-deps.mjs'), join(projectRoot(), 'node_modules'), out]);
    all = await files(out);
  });
  afterAll(() => rm(join(out, '..'), { recursive: true, force: true }));

  it('keeps only the three packages the server loads at run time', async () => {
    expect((await readdir(out)).sort()).toEqual(['onnxruntime-common', 'onnxruntime-node', 'swagger-ui-dist']);
  });

  it("cuts onnxruntime-node's binaries to this platform's CPU build", () => {
    const bins = all.filter((f) => f.startsWith('onnxruntime-node/bin/'));
    expect(bins.length).toBeGreaterThan(0);
    for (const f of bins) expect(f).toMatch(new RegExp(`^onnxruntime-node/bin/napi-v\\d+/${process.platform}/${process.arch}/`));
  });

  it('keeps no source maps, type declarations or ESM duplicates', () => {
    expect(all.filter((f) => /\.map$|\.d\.ts$|dist\/esm\//.test(f))).toEqual([]);
  });

  it('keeps the swagger-ui files /docs serves and nothing else of swagger-ui-dist', () => {
    expect(all.filter((f) => f.startsWith('swagger-ui-dist/'))).toEqual(
      ['LICENSE', 'favicon-16x16.png', 'favicon-32x32.png', 'package.json', 'swagger-ui-bundle.js', 'swagger-ui.css'].map((f) => `swagger-ui-dist/${f}`),
    );
  });

  it('leaves a working onnxruntime-node: it loads from the cut tree and reports its CPU backend', async () => {
    const { stdout } = await run(process.execPath, ['-e', "const ort = require('onnxruntime-node'); console.log(typeof ort.InferenceSession.create, ort.listSupportedBackends().map((b) => b.name).join(','))"], { cwd: join(out, '..') });
    expect(stdout.trim()).toMatch(/^function .*cpu/);
  });
});
