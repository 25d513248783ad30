// The offline Prometheus image the compose stack runs (gsg-prometheus, built from Debian's binary with docker
// import): it starts as nobody, answers /-/ready, has the project's config and rules, passes its health-check
// command, serves its web UI, and discovers model servers from a targets.json mounted at /etc/prometheus/targets.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectDocker } from '../../infra/images/docker.js';
import { writeTargetsFile } from '../../infra/prometheus-image/file-sd.js';
import { ensurePrometheusImage, PROMETHEUS_UID, type PrometheusImage } from '../../infra/prometheus-image/image.js';
import { describeDocker } from '../helpers/docker.js';
import { describePrometheus, prometheusClient, type PrometheusClient } from '../helpers/prometheus.js';

const HEALTHCHECK = ['promtool', 'query', 'instant', 'http://127.0.0.1:9090', 'vector(1)'];

describeDocker('gsg-prometheus image', () => describePrometheus('built from the Debian binary', () => {
  const docker = connectDocker();
  const targets = mkdtempSync(join(tmpdir(), 'gsg-prom-image-targets-'));
  let image: PrometheusImage;
  let container: Docker.Container;
  let prom: PrometheusClient;

  beforeAll(async () => {
    image = await ensurePrometheusImage({ docker });
    // Prometheus runs as nobody: the mounted directory must be readable by it.
    chmodSync(targets, 0o755);
    await writeTargetsFile(targets, [{ targets: ['gsg-green-test:8080'], labels: { color: 'green', model_version: '2026-11-25.001', job: 'model-server' } }]);
    chmodSync(join(targets, 'targets.json'), 0o644);
    container = await docker.createContainer({
      Image: image.tags[0],
      Labels: { 'gsg.test': 'prometheus-image' },
      HostConfig: {
        PortBindings: { '9090/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
        Binds: [`${targets}:/etc/prometheus/targets:ro`],
      },
    });
    await container.start();
    const port = (await container.inspect()).NetworkSettings.Ports['9090/tcp']![0]!.HostPort;
    prom = prometheusClient(`http://127.0.0.1:${port}`);
    await prom.waitForReady();
  });

  afterAll(async () => {
    await container?.remove({ force: true, v: true });
    rmSync(targets, { recursive: true, force: true });
  });

  it('answers /-/ready', async () => {
    await prom.waitForReady();
    expect((await fetch(`${prom.url}/-/ready`)).status).toBe(200);
  });

  it('runs as nobody, not root', async () => {
    const info = await docker.getImage(image.tags[0]!).inspect();
    expect(info.Config.User).toBe(`${PROMETHEUS_UID}:${PROMETHEUS_UID}`);
  });

  it("loads the project's recording and alerting rules", async () => {
    const res = (await (await fetch(`${prom.url}/api/v1/rules`)).json()) as { data: { groups: { name: string; file: string }[] } };
    expect(res.data.groups.map((g) => g.name).sort()).toEqual(['gsg-alerts', 'gsg-model-server', 'gsg-router']);
  });

  it('discovers the model servers of a targets.json mounted at /etc/prometheus/targets, and the platform service', async () => {
    // Neither name resolves outside the stack: the targets are known (discovered) but down.
    const active = await prom.waitForTargets({ platform: 1, 'model-server': 1 }, { anyHealth: true });
    expect(active.map((t) => [t.labels.job, t.labels.instance, t.labels.color ?? '']).sort()).toEqual([
      ['model-server', 'gsg-green-test:8080', 'green'],
      ['platform', 'platform:8080', ''],
    ]);
  });

  it('passes its health-check command (promtool, the image has no shell or curl)', async () => {
    const exec = await container.exec({ Cmd: HEALTHCHECK, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    await new Promise((r) => stream.on('end', r).resume());
    expect((await exec.inspect()).ExitCode).toBe(0);
  });

  it('serves every asset its classic web UI page loads', async () => {
    const page = await (await fetch(`${prom.url}/classic/graph`)).text();
    const assets = [...page.matchAll(/(?:src|href)="(\/classic\/static\/[^"?]+)/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(10);
    const broken = [];
    for (const a of assets) if ((await fetch(`${prom.url}${a}`)).status !== 200) broken.push(a);
    expect(broken).toEqual([]);
  });

  it('is reused, not rebuilt, while binaries, config and rules are unchanged', async () => {
    const again = await ensurePrometheusImage({ docker });
    expect(again.built).toBe(false);
    expect(again.id).toBe(image.id);
  });
}));
