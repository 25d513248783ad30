// `gsg train` and `gsg evaluate` as a user runs them (child processes): output, exit codes and one-line errors
// naming the file, row, field or flag.
import { copyFile, cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../lib/exit-codes.js';
import { projectRoot } from '../../lib/paths.js';
import { sha256File } from '../../models/artifact.js';
import { runGsg } from '../helpers/cli.js';
import { hasData, VAL_CSV } from '../helpers/data.js';
import { bundledVersionDir } from '../helpers/models.js';
import { syntheticDataDir, syntheticRows, toCsv } from './synthetic.js';

const gsg = (args: string[]) => runGsg(args, { LOG_LEVEL: 'silent' }, { cwd: projectRoot() });

let tmp: string;
let bundled: string;
let labelled: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gsg-cli-'));
  bundled = await bundledVersionDir();
  labelled = join(tmp, 'labelled.csv');
  await writeFile(labelled, toCsv(syntheticRows(60, 3)));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A copy of the bundled version that a test may damage. */
async function modelCopy(name: string): Promise<string> {
  const dir = join(tmp, name);
  await cp(bundled, dir, { recursive: true });
  return dir;
}

/** Rewrites metadata.json's size and sha256 of `file` so only the file's contents are wrong. */
async function relist(dir: string, file: string): Promise<void> {
  const meta = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8'));
  const bytes = await readFile(join(dir, file));
  meta.files[file] = { sha256: await sha256File(join(dir, file)), size: bytes.length };
  await writeFile(join(dir, 'metadata.json'), JSON.stringify(meta));
}

describe('gsg train', () => {
  it('shows progress per stage, prints the val metrics and writes the version directory', async () => {
    const data = await syntheticDataDir({ train: 300, val: 100 });
    const out = join(tmp, 'trained');
    try {
      const r = await gsg(['train', '--data', data.dir, '--out', out, '--model-version', 'cli-1']);
      expect(r.code).toBe(0);
      for (const stage of ['[read]', '[vectorise]', '[fold 1/5]', '[fold 5/5]', '[calibrate]', '[export]', '[threshold]', '[write]']) expect(r.stderr).toContain(stage);
      expect(r.stdout).toContain(`sentiment-logreg cli-1 -> ${join(out, 'cli-1')}`);
      expect(r.stdout).toMatch(/negative\s+0\.\d{4}\s+0\.\d{4}\s+0\.\d{4}/);
      expect(await readdir(out)).toEqual(['cli-1']);
    } finally {
      await data.cleanup();
    }
  });

  it('rejects an invalid --model-version naming the flag', async () => {
    const r = await gsg(['train', '--out', join(tmp, 'x'), '--model-version', 'bad version!']);
    expect(r.code).toBe(ExitCode.BadInput);
    expect(r.stderr.trim()).toMatch(/^gsg train: --model-version: must be a valid Docker tag/);
  });

  it('names a missing data file and leaves nothing behind', async () => {
    const out = join(tmp, 'never');
    const r = await gsg(['train', '--data', join(tmp, 'no-such-dir'), '--out', out]);
    expect(r.code).toBe(ExitCode.NotFound);
    expect(r.stderr.trim()).toMatch(/^gsg train: .*no-such-dir\/(train|val)\.csv: missing or unreadable$/);
    await expect(readdir(out)).rejects.toThrow();
  });
});

describe('gsg evaluate', () => {
  it('prints one JSON object with the documented shape', async () => {
    const r = await gsg(['evaluate', '--model', bundled, '--data', labelled, '--json']);
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout);
    expect(Object.keys(m)).toEqual(['n', 'threshold', 'negative', 'positive', 'brier', 'ece', 'confusion']);
    expect(Object.keys(m.negative)).toEqual(['precision', 'recall', 'f1']);
    expect(Object.keys(m.confusion)).toEqual(['tn', 'fp', 'fn', 'tp']);
    expect(m.n).toBe(60);
  });

  it.skipIf(!hasData)('reproduces the val metrics of metadata.json on val.csv', async () => {
    const r = await gsg(['evaluate', '--model', bundled, '--data', VAL_CSV, '--json']);
    const meta = JSON.parse(await readFile(join(bundled, 'metadata.json'), 'utf8'));
    expect(JSON.parse(r.stdout).negative).toEqual(meta.metrics.val.negative);
    expect(JSON.parse(r.stdout).confusion).toEqual(meta.metrics.val.confusion);
  });

  it('prints a readable table without --json', async () => {
    const r = await gsg(['evaluate', '--model', bundled, '--data', labelled]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/class\s+precision\s+recall\s+f1/);
    expect(r.stdout).toMatch(/actual negative\s+\d+\s+\d+/);
  });

  it('names a missing column', async () => {
    const csv = join(tmp, 'nocol.csv');
    await writeFile(csv, 'id,text,sentiment\n1,hola,positive\n');
    const r = await gsg(['evaluate', '--model', bundled, '--data', csv]);
    expect(r.code).toBe(ExitCode.BadInput);
    expect(r.stderr.trim()).toBe(`gsg evaluate: ${csv}: missing column "comment" (header: id,text,sentiment)`);
  });

  it('names the row of a label other than positive/negative', async () => {
    const csv = join(tmp, 'label.csv');
    await writeFile(csv, 'comment,sentiment\nbien,positive\nregular,neutral\n');
    const r = await gsg(['evaluate', '--model', bundled, '--data', csv]);
    expect(r.code).toBe(ExitCode.BadInput);
    expect(r.stderr.trim()).toBe(`gsg evaluate: ${csv}: row 2: sentiment must be "negative" or "positive", got "neutral"`);
  });

  it('rejects an empty CSV', async () => {
    const csv = join(tmp, 'empty.csv');
    await writeFile(csv, '');
    const r = await gsg(['evaluate', '--model', bundled, '--data', csv]);
    expect(r.code).toBe(ExitCode.BadInput);
    expect(r.stderr.trim()).toBe(`gsg evaluate: ${csv}: empty CSV (no header row)`);
  });

  it('names a missing data file', async () => {
    const r = await gsg(['evaluate', '--model', bundled, '--data', join(tmp, 'nope.csv')]);
    expect(r.code).toBe(ExitCode.NotFound);
    expect(r.stderr.trim()).toBe(`gsg evaluate: ${join(tmp, 'nope.csv')}: missing or unreadable`);
  });

  it('names a corrupted model.onnx (checksum mismatch)', async () => {
    const dir = await modelCopy('corrupt');
    const bytes = await readFile(join(dir, 'model.onnx'));
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(join(dir, 'model.onnx'), bytes);
    const r = await gsg(['evaluate', '--model', dir, '--data', labelled]);
    expect(r.code).toBe(ExitCode.BadInput);
    expect(r.stderr.trim()).toMatch(new RegExp(`^gsg evaluate: ${join(dir, 'model.onnx')}: sha256 mismatch`));
  });

  it('names an unreadable model.onnx whose checksum was updated', async () => {
    const dir = await modelCopy('garbage');
    await writeFile(join(dir, 'model.onnx'), 'not a protobuf at all');
    await relist(dir, 'model.onnx');
    const r = await gsg(['evaluate', '--model', dir, '--data', labelled]);
    expect(r.code).toBe(ExitCode.BadInput);
    expect(r.stderr.trim()).toMatch(new RegExp(`^gsg evaluate: ${join(dir, 'model.onnx')}: ONNX Runtime cannot load it`));
  });

  it('names a foreign model.onnx (a valid ONNX model with another interface)', async () => {
    const dir = await modelCopy('foreign');
    await copyFile(join(dir, 'explain.onnx'), join(dir, 'model.onnx'));
    await relist(dir, 'model.onnx');
    const r = await gsg(['evaluate', '--model', dir, '--data', labelled]);
    expect(r.code).toBe(ExitCode.BadInput);
    expect(r.stderr.trim()).toMatch(new RegExp(`^gsg evaluate: ${join(dir, 'model.onnx')}: not a gym-sentiment-guard model`));
  });

  it('names the field of a metadata.json that fails its schema', async () => {
    const dir = await modelCopy('badmeta');
    const meta = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8'));
    meta.threshold = 1.5;
    await writeFile(join(dir, 'metadata.json'), JSON.stringify(meta));
    const r = await gsg(['evaluate', '--model', dir, '--data', labelled]);
    expect(r.code).toBe(ExitCode.BadInput);
    expect(r.stderr.trim()).toMatch(new RegExp(`^gsg evaluate: ${join(dir, 'metadata.json')}: threshold: `));
  });
});

describe('help', () => {
  it('lists every flag of train and evaluate', async () => {
    const train = await gsg(['train', '--help']);
    for (const flag of ['--data', '--out', '--model-version', '--quiet']) expect(train.stdout).toContain(flag);
    const evaluate = await gsg(['evaluate', '--help']);
    for (const flag of ['--model', '--data', '--json']) expect(evaluate.stdout).toContain(flag);
  });
});
