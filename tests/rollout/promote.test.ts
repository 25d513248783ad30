// Promote and rollback through a real platform (`gsg up`, process runtime) with real model servers: a good version
// reaches 100% and rolls back with no failed request under constant load; bad versions (5xx, slow, flipped labels)
// are stopped automatically with the production alias untouched; too little traffic ends inconclusive.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLabelledCsv } from '../../models/training/dataset.js';
import { openRegistry } from '../../registry/registry.js';
import { hasData, VAL_CSV } from '../helpers/data.js';
import {
  gsg,
  productionVersion,
  pushVersionCopy,
  startPlatform,
  testHome,
  type PlatformProcess,
  type TestHome,
} from '../helpers/platform.js';
import { startLoad } from '../helpers/load.js';
import { bundledVersionDir } from '../helpers/models.js';

const V1 = (await bundledVersionDir()).split('/').at(-1)!;
const V2 = '2099-01-01.001';

// Fast analysis windows: the load below sends a few hundred requests per second.
// The p99 limit is generous for the good version (the test machine is busy); the slow fault adds far more than it.
const FAST = ['--steps', '50,100', '--interval', '1s', '--min-requests', '20', '--deadline', '20s', '--max-p99-ms', '300'];

describe('gsg promote / gsg rollback on the process runtime', () => {
  let home: TestHome;
  let platform: PlatformProcess;
  let v2: string;
  let cli: (args: string[]) => ReturnType<typeof gsg>;

  beforeAll(async () => {
    home = await testHome();
    platform = await startPlatform(home);
    v2 = await pushVersionCopy(home, V2);
    cli = (args) => gsg([...args, '--router', platform.url], home.env);
  });

  afterAll(async () => {
    await platform?.stop();
    await home?.remove();
  });

  it('promotes a good version step by step and rolls it back instantly, with zero failed client requests', async () => {
    const load = startLoad(platform.url, { connections: 4, pauseMs: 2 });
    try {
      const promote = await cli(['promote', v2, ...FAST, '--scale-down-delay', '2m', '--reason', 'new model']);
      expect(promote.stderr).toBe('');
      expect(promote.code, promote.stdout + promote.stderr).toBe(0);
      expect(promote.stdout).toMatch(/step 1\/2 weight 50%: \d+ requests, error rate 0\.00%, p99 [\d.]+ ms -> pass/);
      expect(promote.stdout).toMatch(/promoted: sentiment-logreg:production is now 2099-01-01\.001/);
      expect(await productionVersion(home)).toBe(V2);
      const promoted = await platform.state();
      const live = promoted.blue.version === V2 ? promoted.blue : promoted.green;
      expect(live.weight).toBe(100);

      const rollback = await cli(['rollback', '--reason', 'users complain']);
      expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
      expect(rollback.stdout).toContain('instant rollback');
      expect(await productionVersion(home)).toBe(V1);
      const back = await platform.state();
      const restored = back.blue.version === V1 && back.blue.weight === 100 ? back.blue : back.green;
      expect(restored).toMatchObject({ version: V1, weight: 100, ready: true });
    } finally {
      const result = await load.stop();
      expect(result.failures).toEqual([]);
      expect(result.ok).toBeGreaterThan(100);
    }
  });

  it('records both moves in the alias history and in gsg history, with who and why', async () => {
    const moves = await (await openRegistry({ ...process.env, ...home.env })).aliasHistory('sentiment-logreg', 'production');
    expect(moves.slice(-2).map((m) => [m.from, m.to, m.actor])).toEqual([
      [V1, V2, 'tester'],
      [V2, V1, 'tester'],
    ]);
    expect(moves.at(-1)!.reason).toContain('users complain');

    const history = await cli(['history', '--json']);
    expect(history.code).toBe(0);
    const entries = JSON.parse(history.stdout) as Array<{ kind: string; result: string; from_version: string; to_version: string; actor: string; reason: string | null }>;
    expect(entries.slice(-2)).toMatchObject([
      { kind: 'rollout', result: 'promoted', from_version: V1, to_version: V2, actor: 'tester', reason: 'new model' },
      { kind: 'rollback', result: 'completed', from_version: V2, to_version: V1, actor: 'tester', reason: 'users complain' },
    ]);
  });

  it('rolls back a candidate that answers 5xx (error-rate limit) and leaves the alias alone', async () => {
    const load = startLoad(platform.url, { connections: 4, pauseMs: 2 });
    try {
      const r = await cli(['promote', v2, ...FAST, '--env', 'GSG_FAULT_ERROR_RATE=0.5']);
      expect(r.code, r.stdout + r.stderr).toBe(6);
      expect(r.stdout).toMatch(/rolled back: step 1 at 50%: error rate [\d.]+% over the limit 1\.00%/);
    } finally {
      await load.stop();
    }
    expect(await productionVersion(home)).toBe(V1);
    const s = await platform.state();
    expect(s.blue.version === V1 ? s.blue.weight : s.green.weight).toBe(100);
  });

  it('rolls back a slow candidate (p99 limit) and leaves the alias alone', async () => {
    const load = startLoad(platform.url, { connections: 8, pauseMs: 2 });
    try {
      const r = await cli(['promote', v2, ...FAST, '--env', 'GSG_FAULT_LATENCY_MS=600']);
      expect(r.code, r.stdout + r.stderr).toBe(6);
      expect(r.stdout).toMatch(/rolled back: step 1 at 50%: p99 latency [\d.]+ ms over the limit 300 ms/);
    } finally {
      await load.stop();
    }
    expect(await productionVersion(home)).toBe(V1);
  });

  it.runIf(hasData)('refuses a candidate with flipped labels at the golden gate, before it gets any weighted traffic', async () => {
    const val = await readLabelledCsv(VAL_CSV);
    const dir = await mkdtemp(join(tmpdir(), 'gsg-golden-'));
    const golden = join(dir, 'golden.csv');
    const rows = val.texts.slice(0, 300).map((t, i) => `"${t.replace(/"/g, '""')}",${val.labels[i] === 0 ? 'negative' : 'positive'}`);
    await writeFile(golden, `comment,sentiment\n${rows.join('\n')}\n`);

    const r = await cli(['promote', v2, ...FAST, '--golden', golden, '--env', 'GSG_FAULT_FLIP=1']);
    expect(r.code, r.stdout + r.stderr).toBe(7);
    expect(r.stdout).toMatch(/golden gate on 300 rows: F1_neg candidate [\d.]+ vs live [\d.]+/);
    expect(r.stdout).toMatch(/refused: golden gate failed/);
    expect(r.stdout).not.toMatch(/step 1\/2/); // no weight ever moved
    expect(await productionVersion(home)).toBe(V1);
  });

  it('ends as inconclusive at the deadline, not as a pass, when the candidate gets too little traffic', async () => {
    const r = await cli(['promote', v2, '--steps', '100', '--interval', '500ms', '--min-requests', '50', '--deadline', '2s']);
    expect(r.code, r.stdout + r.stderr).toBe(6);
    expect(r.stdout).toMatch(/-> inconclusive/);
    expect(r.stdout).toMatch(/rolled back: inconclusive: only \d+ requests in the window \(need at least 50\)/);
    expect(await productionVersion(home)).toBe(V1);
  });

  it('refuses a ref the registry does not know, before any traffic', async () => {
    const r = await cli(['promote', 'sentiment-logreg@no-such-version', ...FAST]);
    expect(r.code, r.stdout + r.stderr).toBe(7);
    expect(r.stderr).toMatch(/refused: bad ref sentiment-logreg@no-such-version/);
  });
});
