// Build records in $GSG_HOME/builds: what `gsg build` writes is what readBuildRecords() returns, and a broken file
// is reported and skipped without hiding the valid ones.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildRecordPath, readBuildRecords, writeBuildRecord, type BuildRecord } from '../../infra/images/build-record.js';

const record = (version: string, createdAt: string): BuildRecord => ({
  image: `gsg-model-server:sentiment-logreg-${version}`,
  imageId: `sha256:${'a'.repeat(64)}`,
  modelName: 'sentiment-logreg',
  version,
  sha256: 'b'.repeat(64),
  sizeBytes: 150_000_000,
  buildSeconds: 42.5,
  baseImage: 'gsg-base/node:20-bookworm-slim',
  runtimeBaseImage: 'gsg-base/node:20-runtime',
  createdAt,
  revision: 'c'.repeat(40),
  buildKey: 'd'.repeat(64),
  reused: false,
});

describe('build records', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'gsg-records-'));
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('writes <name>-<version>.json under $GSG_HOME/builds and reads it back, oldest first', async () => {
    await writeBuildRecord(record('2026-11-25.002', '2026-11-25T12:00:00.000Z'), home);
    const file = await writeBuildRecord(record('2026-11-25.001', '2026-11-25T11:00:00.000Z'), home);
    expect(file).toBe(buildRecordPath('sentiment-logreg', '2026-11-25.001', home));
    expect(file).toBe(join(home, 'builds', 'sentiment-logreg-2026-11-25.001.json'));
    expect((await readBuildRecords(home)).map((r) => r.version)).toEqual(['2026-11-25.001', '2026-11-25.002']);
    expect(await readdir(join(home, 'builds'))).toHaveLength(2); // no temp files left behind
  });

  it('skips a file that is not valid JSON or misses a field, naming the file and the field', async () => {
    await writeBuildRecord(record('2026-11-25.001', '2026-11-25T11:00:00.000Z'), home);
    await writeFile(join(home, 'builds', 'broken.json'), '{not json');
    const { sizeBytes: _, ...noSize } = record('2026-11-25.003', '2026-11-25T13:00:00.000Z');
    await writeFile(join(home, 'builds', 'sentiment-logreg-2026-11-25.003.json'), JSON.stringify(noSize));
    const invalid: string[] = [];
    const records = await readBuildRecords(home, (file, reason) => invalid.push(`${file}: ${reason}`));
    expect(records.map((r) => r.version)).toEqual(['2026-11-25.001']);
    expect(invalid).toEqual([expect.stringMatching(/broken\.json: not valid JSON/), expect.stringMatching(/2026-11-25\.003\.json: sizeBytes: /)]);
  });

  it('refuses to write an invalid record', async () => {
    await expect(writeBuildRecord({ ...record('x', '2026-11-25T11:00:00.000Z'), imageId: 'nope' }, home)).rejects.toThrow(/imageId/);
  });

  it('reads nothing (and does not fail) before the first build', async () => {
    await mkdir(join(home, 'other'));
    expect(await readBuildRecords(home)).toEqual([]);
  });
});
