// promtool on the project's Prometheus assets: the compose config, the process-mode config derived from it, every
// rule file, and the rule unit tests (series in, expected alerts and recorded values out) in prometheus/tests.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { composeConfigPath, prometheusDir, renderProcessConfig } from '../../infra/prometheus-image/config.js';
import { describePrometheus, promtool } from '../helpers/prometheus.js';

const ymlIn = (dir: string) => readdirSync(join(prometheusDir(), dir)).filter((f) => f.endsWith('.yml')).map((f) => join(prometheusDir(), dir, f));
const ruleFiles = ymlIn('rules');
const testFiles = ymlIn('tests');

describePrometheus('promtool', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'gsg-promtool-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('accepts prometheus/prometheus.yml (the compose stack) and finds its rule files', () => {
    const r = promtool(['check', 'config', composeConfigPath()]);
    expect(r.output).toContain(`SUCCESS: ${ruleFiles.length} rule files found`);
    expect(r.code, r.output).toBe(0);
  });

  it('accepts the process-mode config rendered for 127.0.0.1 targets', () => {
    const file = join(tmp, 'prometheus.yml');
    writeFileSync(file, renderProcessConfig({ platformTargets: ['127.0.0.1:8080'], targetsDir: join(tmp, 'targets'), scrapeInterval: '1s', evaluationInterval: '1s' }));
    const r = promtool(['check', 'config', file]);
    expect(r.output).toContain(`SUCCESS: ${ruleFiles.length} rule files found`);
    expect(r.code, r.output).toBe(0);
  });

  it.each(ruleFiles)('accepts the rules in %s', (file) => {
    const r = promtool(['check', 'rules', file]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it.each(testFiles)('passes the rule unit tests in %s', (file) => {
    const r = promtool(['test', 'rules', file]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('SUCCESS');
  });
});
