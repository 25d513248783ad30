// A model that cannot be served stops the process: non-zero exit, one stderr line naming the file, a
// serving.load_failed log with the ModelLoadError — and never a /ready 200. Bad configuration stops it the same way.
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../lib/exit-codes.js';
import { writeModelVersion } from '../helpers/model-fixture.js';
import { testModelDir } from '../helpers/models.js';
import { body, postJson, spawnServer, startTestServer } from './helpers.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gsg-load-failures-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function copyOfBundledModel(name: string): Promise<string> {
  const dir = join(tmp, name);
  await cp(await testModelDir(), dir, { recursive: true });
  return dir;
}

async function expectLoadFailure(modelDir: string, file: string, message: RegExp) {
  const proc = await spawnServer({ GSG_MODEL: modelDir });
  try {
    expect(await proc.exited).toBe(ExitCode.BadInput);
    const stderr = proc.stderr().trim();
    expect(stderr.split('\n')).toHaveLength(1);
    expect(stderr).toContain(file);
    expect(stderr).toMatch(message);
    const failed = proc.lines.find((l) => l.event === 'serving.load_failed');
    expect(failed).toMatchObject({ file, err: { type: 'ModelLoadError' } });
    expect(proc.lines.some((l) => l.event === 'serving.ready')).toBe(false);
  } finally {
    await proc.kill();
  }
}

describe('a model that fails to load', () => {
  it('missing directory: names its metadata.json', async () => {
    const dir = join(tmp, 'does-not-exist');
    await expectLoadFailure(dir, join(dir, 'metadata.json'), /missing or unreadable/);
  });

  it('missing model.onnx: names it', async () => {
    const dir = await copyOfBundledModel('no-onnx');
    await unlink(join(dir, 'model.onnx'));
    await expectLoadFailure(dir, join(dir, 'model.onnx'), /missing \(listed in metadata\.json\)/);
  });

  it('model.onnx whose sha256 differs from its metadata: names it', async () => {
    const dir = await copyOfBundledModel('tampered');
    const bytes = await readFile(join(dir, 'model.onnx'));
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(join(dir, 'model.onnx'), bytes);
    await expectLoadFailure(dir, join(dir, 'model.onnx'), /sha256 mismatch/);
  });

  it('model.onnx that is not ONNX (checksums consistent): names it', async () => {
    const { dir } = await writeModelVersion(join(tmp, 'garbage'), { modelBytes: Buffer.from('this is not a protobuf ONNX graph\n'.repeat(4)) });
    await expectLoadFailure(dir, join(dir, 'model.onnx'), /ONNX Runtime cannot load it/);
  });

  it('metadata.json that fails its schema: names it and the field', async () => {
    const dir = await copyOfBundledModel('bad-metadata');
    const meta = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8'));
    meta.threshold = 1.5;
    await writeFile(join(dir, 'metadata.json'), JSON.stringify(meta));
    await expectLoadFailure(dir, join(dir, 'metadata.json'), /threshold/);
  });
});

describe('the explain files', () => {
  it('a listed one that is missing stops the load like model.onnx', async () => {
    const dir = await copyOfBundledModel('no-explain-graph');
    await unlink(join(dir, 'explain.onnx'));
    await expectLoadFailure(dir, join(dir, 'explain.onnx'), /missing \(listed in metadata\.json\)/);
  });

  it('are hashed on the first explanation, not before ready: a tampered explain.onnx fails /predict/explain (500, logged naming it) while /predict works', async () => {
    const dir = await copyOfBundledModel('tampered-explain');
    const bytes = await readFile(join(dir, 'explain.onnx'));
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(join(dir, 'explain.onnx'), bytes);
    const server = await startTestServer({ GSG_MODEL: dir });
    try {
      expect((await postJson(`${server.url}/predict`, { texts: ['Muy buen gimnasio'] })).status).toBe(200);
      const r = await postJson(`${server.url}/predict/explain`, { texts: ['Muy buen gimnasio'] });
      expect(r.status).toBe(500);
      expect(await body(r)).toEqual({ detail: 'Internal server error' });
      const logged = server.lines.find((l) => l.event === 'serving.internal_error');
      expect(logged).toMatchObject({ route: '/predict/explain', err: { type: 'ModelLoadError', message: expect.stringContaining(`${join(dir, 'explain.onnx')}: sha256 mismatch`) } });
    } finally {
      await server.close();
    }
  });
});

describe('bad configuration', () => {
  it.each([
    [{ PORT: 'eighty' }, /^model-server: invalid configuration: PORT: must be an integer \(got "eighty"\)$/],
    [{ PORT: '70000' }, /^model-server: invalid configuration: PORT: must be an integer from 0 to 65535 \(got "70000"\)$/],
    [{ LOG_LEVEL: 'loud' }, /^model-server: invalid configuration: LOG_LEVEL: must be one of .* \(got "loud"\)$/],
    [{ GSG_FAULT_ERROR_RATE: '1.5' }, /^model-server: invalid configuration: GSG_FAULT_ERROR_RATE: must be between 0 and 1 \(got "1.5"\)$/],
    [{ GSG_FAULT_FLIP: 'maybe' }, /^model-server: invalid configuration: GSG_FAULT_FLIP: must be one of 1, 0, true, false/],
    [{ GSG_GRACE_MS: '-1' }, /^model-server: invalid configuration: GSG_GRACE_MS: must be an integer from 0 to 3600000 \(got "-1"\)$/],
    [{ GSG_MODEL: '' }, /^model-server: invalid configuration: GSG_MODEL: is required/],
  ])('%o stops the process with one line naming the variable, exit 2', async (env, message) => {
    const proc = await spawnServer({ GSG_MODEL: join(tmp, 'unused'), ...env });
    try {
      expect(await proc.exited).toBe(ExitCode.BadInput);
      expect(proc.stderr().trim()).toMatch(message);
      expect(proc.lines.some((l) => l.event === 'serving.start')).toBe(false);
    } finally {
      await proc.kill();
    }
  });
});
