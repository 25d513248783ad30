// The process-mode Prometheus config: derived from the compose stack's prometheus.yml with local targets and absolute
// paths, and the `npm run prometheus:config` entry that writes it for `gsg up` users.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadComposeConfig, renderProcessConfig, rulesDir } from '../../infra/prometheus-image/config.js';
import { projectRoot } from '../../lib/paths.js';

const job = (config: ReturnType<typeof loadComposeConfig>, name: string) => config.scrape_configs.find((s) => s.job_name === name)!;

describe('process-mode Prometheus config', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'gsg-prom-config-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const compose = loadComposeConfig();

  it('scrapes the platform at the given address and model servers from the given targets directory', () => {
    const config = parse(renderProcessConfig({ platformTargets: ['127.0.0.1:18080'], targetsDir: '/tmp/gsg/targets' })) as typeof compose;
    expect(job(config, 'platform').static_configs).toEqual([{ targets: ['127.0.0.1:18080'] }]);
    expect(job(config, 'model-server').file_sd_configs).toEqual([{ ...job(compose, 'model-server').file_sd_configs![0], files: ['/tmp/gsg/targets/*.json'] }]);
    expect(config.rule_files).toEqual([join(rulesDir(), '*.yml')]);
  });

  it('keeps everything else from prometheus.yml (intervals, honor_labels, metrics paths)', () => {
    const config = parse(renderProcessConfig({ platformTargets: ['127.0.0.1:18080'], targetsDir: '/t' })) as typeof compose;
    expect(config.global).toEqual(compose.global);
    expect(job(config, 'model-server').honor_labels).toBe(true);
    expect(config.scrape_configs.map((s) => [s.job_name, s.metrics_path])).toEqual(compose.scrape_configs.map((s) => [s.job_name, s.metrics_path]));
  });

  it('overrides the scrape and evaluation intervals when asked (timeout follows the interval)', () => {
    const config = parse(renderProcessConfig({ platformTargets: ['127.0.0.1:1'], targetsDir: '/t', scrapeInterval: '1s', evaluationInterval: '2s' })) as typeof compose;
    expect(config.global).toMatchObject({ scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '2s' });
  });

  it('refuses a relative targets directory or a target without a port, naming the option', () => {
    expect(() => renderProcessConfig({ platformTargets: ['127.0.0.1:1'], targetsDir: 'targets' })).toThrow(/targetsDir: expected an absolute path/);
    expect(() => renderProcessConfig({ platformTargets: ['localhost'], targetsDir: '/t' })).toThrow(/platformTargets\[0\]: expected host:port/);
  });

  it('is written by `npm run prometheus:config` for gsg up users', () => {
    const out = join(tmp, 'prometheus.yml');
    const r = spawnSync('node', ['dist/infra/prometheus-image/main.js', 'config', '--platform', '127.0.0.1:8080', '--targets-dir', join(tmp, 'targets'), '--out', out], { cwd: projectRoot(), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const config = parse(readFileSync(out, 'utf8')) as typeof compose;
    expect(job(config, 'platform').static_configs).toEqual([{ targets: ['127.0.0.1:8080'] }]);
    expect(job(config, 'model-server').file_sd_configs?.[0]?.files).toEqual([join(tmp, 'targets', '*.json')]);
  });

  it('exits 2 with one line naming a bad flag', () => {
    const r = spawnSync('node', ['dist/infra/prometheus-image/main.js', 'config', '--platform', 'nowhere'], { cwd: projectRoot(), encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('prometheus-config: --platform: expected host:port');
  });
});
