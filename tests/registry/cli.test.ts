// `gsg registry ...` as a user runs it: real child processes of the compiled CLI on a temporary $GSG_HOME,
// checking output, documented exit codes, and one round trip through gs:// (the fake GCS server).
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../lib/exit-codes.js';
import { runGsg } from '../helpers/cli.js';
import { startFakeGcs, type FakeGcs } from '../helpers/fake-gcs/server.js';
import { writeModelVersion } from '../helpers/model-fixture.js';

const NAME = 'sentiment-logreg';

const gsg = (args: string[], env: Record<string, string>) => runGsg(args, { LOG_LEVEL: 'silent', USER: 'cli-tester', ...env }, { timeoutMs: 60_000 });

let tmp: string;
let env: Record<string, string>;
const src = (v: string) => join(tmp, 'src', v);
const run = (...args: string[]) => gsg(['registry', ...args], env);

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gsg-cli-registry-'));
  env = { GSG_HOME: join(tmp, 'home'), GSG_REGISTRY: '' };
  await writeModelVersion(src('2026-11-01.001'), { version: '2026-11-01.001', f1Neg: 0.812 });
  await writeModelVersion(src('2026-11-02.001'), { version: '2026-11-02.001', f1Neg: 0.9234 });
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('gsg registry (file store, default location $GSG_HOME/registry)', () => {
  it('push prints the ref it created', async () => {
    const r = await run('push', src('2026-11-01.001'));
    expect(r).toMatchObject({ code: 0, stdout: `${NAME}@2026-11-01.001\n` });
    expect(await readdir(join(tmp, 'home', 'registry'))).toEqual(expect.arrayContaining(['models', 'blobs']));
    expect((await run('push', src('2026-11-02.001'))).stdout).toBe(`${NAME}@2026-11-02.001\n`);
  });

  it('push of an existing version exits 4 (conflict) and says so', async () => {
    const r = await run('push', src('2026-11-01.001'));
    expect(r.code).toBe(ExitCode.Conflict);
    expect(r.stderr).toMatch(/^gsg registry push: sentiment-logreg@2026-11-01\.001 already exists/);
  });

  it('push of a directory with a bad metadata field exits 2 naming the field', async () => {
    const bad = await writeModelVersion(join(tmp, 'bad'), { version: '2026-11-09.001', editMetadata: (m) => ((m.metrics as { val: { n: number } }).val.n = -3) });
    const r = await run('push', bad.dir);
    expect(r.code).toBe(ExitCode.BadInput);
    expect(r.stderr).toContain('metrics.val.n');
  });

  it('alias set moves an alias and prints the move; a stale --expect exits 4 naming the current target', async () => {
    expect((await run('alias', 'set', NAME, 'production', '2026-11-01.001', '--reason', 'first')).stdout).toBe(`${NAME}:production  (unset) -> 2026-11-01.001\n`);
    const stale = await run('alias', 'set', NAME, 'production', '2026-11-02.001', '--expect', 'none');
    expect(stale.code).toBe(ExitCode.Conflict);
    expect(stale.stderr).toContain('points at 2026-11-01.001');
  });

  it('of two concurrent alias set processes expecting the same target, exactly one wins (the other exits 4)', async () => {
    const [a, b] = await Promise.all([
      run('alias', 'set', NAME, 'race', '2026-11-01.001', '--expect', 'none', '--actor', 'ana'),
      run('alias', 'set', NAME, 'race', '2026-11-02.001', '--expect', 'none', '--actor', 'bo'),
    ]);
    expect([a.code, b.code].sort()).toEqual([0, ExitCode.Conflict]);
    const history = JSON.parse((await run('alias', 'history', NAME, 'race', '--json')).stdout);
    expect(history).toHaveLength(1);
    expect((a.code === 0 ? b : a).stderr).toContain(`points at ${history[0].to}`);
  });

  it('list prints an aligned table: version, created, val F1_neg, size, short sha256, aliases', async () => {
    const r = await run('list', NAME);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^VERSION\s+CREATED\s+VAL F1_NEG\s+SIZE\s+SHA256\s+ALIASES$/);
    expect(lines[1]).toMatch(/^2026-11-01\.001\s+2026-11-25 10:00Z\s+0\.812\s+\d+(\.\d)? (B|KiB)\s+[0-9a-f]{12}\s+(\S+,)?production\b/);
    expect(lines[2]).toMatch(/^2026-11-02\.001\s+.*\s0\.923\s/);
    const col = (l: string) => l.indexOf(l.includes('VAL') ? 'VAL' : '0.');
    expect(col(lines[1]!)).toBe(col(lines[0]!));
  });

  it('list --json is machine-readable', async () => {
    const rows = JSON.parse((await run('list', '--json')).stdout);
    expect(rows.map((r: { name: string; version: string }) => `${r.name}@${r.version}`)).toEqual([`${NAME}@2026-11-01.001`, `${NAME}@2026-11-02.001`]);
  });

  it('show --json gives the resolved version, manifest and metadata', async () => {
    const r = await run('show', `${NAME}:production`, '--json');
    const shown = JSON.parse(r.stdout);
    expect(shown).toMatchObject({ name: NAME, version: '2026-11-01.001', alias: 'production', aliases: expect.arrayContaining(['production']), manifest: { pushed_by: 'cli-tester', metadata: { version: '2026-11-01.001' } } });
    expect(Object.keys(shown.manifest.files).sort()).toEqual(['explain.json', 'metadata.json', 'model.onnx', 'report.md']);
  });

  it('show of an unknown ref exits 3 and lists the versions and aliases that exist', async () => {
    const r = await run('show', `${NAME}@2020-01-01.001`);
    expect(r.code).toBe(ExitCode.NotFound);
    expect(r.stderr).toContain('versions: 2026-11-01.001, 2026-11-02.001');
    expect(r.stderr).toContain('production -> 2026-11-01.001');
  });

  it('a malformed ref exits 2 naming what is wrong', async () => {
    const r = await run('show', 'Sentiment@1');
    expect(r.code).toBe(ExitCode.BadInput);
    expect(r.stderr).toContain('model name');
  });

  it('pull writes a verified copy; a corrupted object exits 5 naming the file and both checksums, leaving nothing', async () => {
    const ok = await run('pull', `${NAME}@2026-11-02.001`, '--to', join(tmp, 'pulled'));
    expect(ok.code).toBe(0);
    expect(await readFile(join(tmp, 'pulled', 'model.onnx'))).toEqual(await readFile(join(src('2026-11-02.001'), 'model.onnx')));
    const manifest = JSON.parse((await run('show', `${NAME}@2026-11-01.001`, '--json')).stdout).manifest;
    const sha = manifest.files['model.onnx'].sha256;
    await writeFile(join(tmp, 'home', 'registry', 'blobs', 'sha256', sha), 'rotten bits');
    const bad = await run('pull', `${NAME}@2026-11-01.001`, '--to', join(tmp, 'corrupt', 'dest'));
    expect(bad.code).toBe(ExitCode.Integrity);
    expect(bad.stderr).toMatch(new RegExp(`model\\.onnx: sha256 mismatch \\(manifest ${sha}, downloaded [0-9a-f]{64}`));
    expect(await readdir(join(tmp, 'corrupt'))).toEqual([]);
  });

  it('alias history prints every move: when, alias, from, to, who, why', async () => {
    const r = await run('alias', 'history', NAME, 'production');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^WHEN\s+ALIAS\s+FROM\s+TO\s+WHO\s+REASON$/);
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT\S+\s+production\s+-\s+2026-11-01\.001\s+cli-tester\s+first$/);
  });

  it('every registry subcommand documents the exit codes in --help', async () => {
    const subs = [['push'], ['list'], ['show'], ['pull'], ['alias', 'set'], ['alias', 'history']];
    for (const r of await Promise.all(subs.map((sub) => run(...sub, '--help')))) {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/2 +bad input[\s\S]*3 +not found[\s\S]*4 +conflict[\s\S]*5 +integrity/);
    }
  });
});

describe('gsg registry on gs:// (fake GCS JSON API)', () => {
  let fake: FakeGcs;
  beforeAll(async () => {
    fake = await startFakeGcs({ buckets: ['cli-bucket'] });
  });
  afterAll(() => fake.close());

  it('pushes, lists and pulls through GSG_REGISTRY=gs://bucket/prefix', async () => {
    const gsEnv = { ...env, GSG_HOME: join(tmp, 'gs-home'), GSG_REGISTRY: 'gs://cli-bucket/models-prod', GSG_GCS_ENDPOINT: fake.url };
    const push = await gsg(['registry', 'push', src('2026-11-02.001')], gsEnv);
    expect(push).toMatchObject({ code: 0, stdout: `${NAME}@2026-11-02.001\n` });
    expect([...fake.objects('cli-bucket').keys()].every((k) => k.startsWith('models-prod/'))).toBe(true);
    expect((await gsg(['registry', 'list'], gsEnv)).stdout).toMatch(/sentiment-logreg\s+2026-11-02\.001/);
    expect((await gsg(['registry', 'pull', `${NAME}@2026-11-02.001`, '--to', join(tmp, 'gs-pulled')], gsEnv)).code).toBe(0);
    expect((await readdir(join(tmp, 'gs-pulled'))).sort()).toEqual(['explain.json', 'metadata.json', 'model.onnx', 'report.md']);
  });
});
