// targets.json, the file through which the platform tells Prometheus which model servers run: its documented
// format, atomic replacement, and validation that names the bad field.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BadInputError } from '../../lib/errors.js';
import { readTargetsFile, targetGroupsFor, targetsDir, writeTargetsFile, type TargetGroup } from '../../infra/prometheus-image/file-sd.js';

const blue: TargetGroup = { targets: ['127.0.0.1:41001'], labels: { color: 'blue', model_version: '2026-11-20.001', job: 'model-server' } };
const green: TargetGroup = { targets: ['gsg-green-2026-11-25-001:8080'], labels: { color: 'green', model_version: '2026-11-25.001', job: 'model-server' } };

describe('targets.json', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gsg-file-sd-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is written in the documented file-SD format', async () => {
    const file = await writeTargetsFile(dir, [blue, green]);
    expect(file).toBe(join(dir, 'targets.json'));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([
      { targets: ['127.0.0.1:41001'], labels: { color: 'blue', model_version: '2026-11-20.001', job: 'model-server' } },
      { targets: ['gsg-green-2026-11-25-001:8080'], labels: { color: 'green', model_version: '2026-11-25.001', job: 'model-server' } },
    ]);
  });

  it('is replaced whole, leaving no temporary file behind', async () => {
    await writeTargetsFile(dir, [blue, green]);
    await writeTargetsFile(dir, [green]);
    expect(readdirSync(dir)).toEqual(['targets.json']);
    expect(await readTargetsFile(dir)).toEqual([green]);
  });

  it('describes the running instances by their metrics target, color and version', () => {
    expect(targetGroupsFor([{ color: 'green', version: '2026-11-25.001', metricsTarget: 'gsg-green-2026-11-25-001:8080' }])).toEqual([green]);
  });

  it('refuses a group with a bad color, naming the field, and leaves the old file as it was', async () => {
    await writeTargetsFile(dir, [blue]);
    const bad = { ...green, labels: { ...green.labels, color: 'red' } } as unknown as TargetGroup;
    const err = await writeTargetsFile(dir, [blue, bad]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as Error).message).toMatch(/targets\.json: \[1\]\.labels\.color/);
    expect(await readTargetsFile(dir)).toEqual([blue]);
  });

  it('refuses a target without a port and a label name Prometheus would reject', async () => {
    await expect(writeTargetsFile(dir, [{ ...blue, targets: ['127.0.0.1'] }])).rejects.toThrow(/\[0\]\.targets\[0\]: expected host:port/);
    const badLabel = { ...blue, labels: { ...blue.labels, 'model-name': 'x' } };
    await expect(writeTargetsFile(dir, [badLabel])).rejects.toThrow(/model-name: not a valid Prometheus label name/);
  });

  it('reads a missing file as no targets and a corrupt one as a clear error', async () => {
    expect(await readTargetsFile(dir)).toEqual([]);
    writeFileSync(join(dir, 'targets.json'), '[{"targets":');
    await expect(readTargetsFile(dir)).rejects.toThrow(/targets\.json: not JSON/);
  });

  it('lives in $GSG_TARGETS_DIR, else $GSG_HOME/platform/targets', () => {
    expect(targetsDir({ GSG_TARGETS_DIR: '/srv/targets', GSG_HOME: '/h' })).toBe('/srv/targets');
    expect(targetsDir({ GSG_HOME: '/h' })).toBe('/h/platform/targets');
  });
});
