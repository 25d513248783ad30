// The docker-compose stack end to end on a real Docker engine, driven through its CLI (`npm run stack` /
// `stack:push` / `stack:down` = node dist/infra/stack/main.js): up without Grafana (its image cannot be pulled here)
// on random host ports under a unique project name, predictions through the router, Prometheus scraping the
// platform and blue (file SD), a second version pushed into the platform's registry and promoted to green — a
// container the platform starts through its DockerRuntime on the stack's network —, every dashboard query answered,
// then down with nothing left: containers, green, network, volumes.
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/paths.js';
import { BASE_IMAGE_TAGS } from '../../infra/base-image/base-image.js';
import { LABELS } from '../../infra/runtimes/docker-runtime.js';
import { runCommand, composeLabels, publishedUrl, type CommandResult } from '../../infra/stack/compose.js';
import { readEnvFile } from '../../infra/stack/env-file.js';
import { describeDocker } from '../helpers/docker.js';
import { bundledVersionDir } from '../helpers/models.js';
import { gsg, pushVersionCopy, testHome, type TestHome } from '../helpers/platform.js';
import { dashboardQueries, describePrometheus, missingQueryData, prometheusClient, variableQueries, type PrometheusClient } from '../helpers/prometheus.js';
import { readMetadata } from '../../models/artifact.js';
import { startTraffic, type Traffic } from './traffic.js';

const STACK_CLI = join(projectRoot(), 'dist', 'infra', 'stack', 'main.js');
/** The same copy of the bundled version the other docker tests promote: one image build serves them all. */
const V2 = '2099-03-03.001';
const NAME = `gsg-e2e-${process.pid}-${randomBytes(3).toString('hex')}`;
const docker = new Docker();

/** What is left of the stack on the engine: containers (compose's and the platform's), the network, volumes. */
async function leftovers(): Promise<string[]> {
  const containers = [
    ...(await docker.listContainers({ all: true, filters: { label: composeLabels(NAME) } })),
    ...(await docker.listContainers({ all: true, filters: { label: [`${LABELS.managedBy}=${NAME}`] } })),
  ].map((c) => `container ${c.Names[0]}`);
  const networks = (await docker.listNetworks({ filters: { name: [NAME] } })).filter((n) => n.Name === NAME).map((n) => `network ${n.Name}`);
  const volumes = ((await docker.listVolumes({ filters: { label: composeLabels(NAME) } })).Volumes ?? []).map((v) => `volume ${v.Name}`);
  return [...containers, ...networks, ...volumes];
}

async function forceRemove(): Promise<void> {
  for (const label of [composeLabels(NAME), [`${LABELS.managedBy}=${NAME}`]]) {
    for (const c of await docker.listContainers({ all: true, filters: { label } })) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {});
  }
  await docker.getNetwork(NAME).remove().catch(() => {});
  for (const v of (await docker.listVolumes({ filters: { label: composeLabels(NAME) } })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
}

describeDocker('the docker-compose stack', () => describePrometheus('end to end without Grafana', () => {
  let home: TestHome;
  let env: Record<string, string>;
  let up: CommandResult;
  let down: CommandResult | undefined;
  let routerUrl: string;
  let prom: PrometheusClient;
  let token: string;
  let v1: string;
  let traffic: Traffic | undefined;
  const stack = (args: string[]) => runCommand([process.execPath, STACK_CLI, ...args], { env: { ...process.env, ...env } });
  const failure = (r: CommandResult) => `exit ${r.code}\n${r.stdout}\n${r.stderr.split('\n').filter((l) => !/^(Step \d| ---> |Removing intermediate|\s*Running in)/.test(l)).slice(-60).join('\n')}`;

  beforeAll(async () => {
    home = await testHome();
    v1 = (await readMetadata(await bundledVersionDir())).version;
    env = {
      GSG_STACK_NAME: NAME,
      GSG_STACK_ENV_FILE: join(home.dir, 'stack.env'),
      // Host-side build records go to the test's home; the images are the ones the other docker tests build.
      GSG_HOME: home.dir,
      GSG_BASE_IMAGE: BASE_IMAGE_TAGS.build,
      // Empty: random free host ports, so the test never clashes with a stack (or anything) on 8080/9090.
      GSG_ROUTER_PORT: '',
      GSG_PROMETHEUS_PORT: '',
      GSG_GRAFANA_PORT: '',
    };
    up = await stack(['up', '--no-grafana']);
    if (up.code !== 0) throw new Error(`stack up failed: ${failure(up)}`);
    routerUrl = await publishedUrl(docker, NAME, 'platform', 8080);
    prom = prometheusClient(await publishedUrl(docker, NAME, 'prometheus', 9090));
    token = (await readEnvFile(env.GSG_STACK_ENV_FILE!)).values.GSG_ADMIN_TOKEN!;
  }, 1_200_000);

  afterAll(async () => {
    await traffic?.stop();
    if (!down && env) await stack(['down']);
    await forceRemove();
    await home?.remove();
  }, 180_000);

  it('prints the router and Prometheus URLs and the admin token, and says Grafana was not started', () => {
    expect(up.stdout).toContain(`router        ${routerUrl}`);
    expect(up.stdout).toContain(`admin token   ${token}`);
    expect(up.stdout).toMatch(/Grafana\s+not started: disabled \(--no-grafana\)/);
  });

  it('writes a private env file with a generated admin token and Grafana password, the images and the socket group', async () => {
    const file = await readEnvFile(env.GSG_STACK_ENV_FILE!);
    expect((await stat(file.path)).mode & 0o777).toBe(0o600);
    expect(file.values).toMatchObject({
      GSG_STACK_NAME: NAME,
      COMPOSE_PROJECT_NAME: NAME,
      GSG_DOCKER_GID: String((await stat('/var/run/docker.sock')).gid),
      GSG_BLUE_IMAGE: `gsg-model-server:sentiment-logreg-${v1}`,
      GSG_PLATFORM_IMAGE: expect.stringMatching(/^gsg-platform:/),
      GSG_PROMETHEUS_IMAGE: expect.stringMatching(/^gsg-prometheus:/),
    });
    expect(file.values.GSG_ADMIN_TOKEN!.length).toBeGreaterThanOrEqual(32);
    expect(file.values.GRAFANA_ADMIN_PASSWORD!.length).toBeGreaterThanOrEqual(24);
  });

  it('serves predictions through the router, from blue = the bundled production version', async () => {
    const res = await fetch(`${routerUrl}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ texts: ['las máquinas siempre rotas'] }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { model_version: string }[])[0]!.model_version).toBe(v1);
    const state = (await (await fetch(`${routerUrl}/admin/state`, { headers: { authorization: `Bearer ${token}` } })).json()) as { blue: { url: string; weight: number } };
    expect(state.blue).toMatchObject({ url: 'http://blue:8080', weight: 100 });
  });

  it('runs the platform as a non-root user in the Docker socket group, read-only, with the socket mounted', async () => {
    const c = await docker.listContainers({ filters: { label: composeLabels(NAME, 'platform') } });
    const info = await docker.getContainer(c[0]!.Id).inspect();
    expect(info.Config.User).toBe('node');
    expect(info.HostConfig.GroupAdd).toEqual([String((await stat('/var/run/docker.sock')).gid)]);
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.Mounts.map((m) => m.Destination).sort()).toEqual(['/etc/prometheus/targets', '/var/lib/gsg', '/var/run/docker.sock']);
  });

  it('has Prometheus scrape the platform and blue, found through the targets file the platform writes', async () => {
    const targets = await prom.waitForTargets({ platform: 1, 'model-server': 1 }, { timeoutMs: 60_000 });
    expect(targets.map((t) => [t.labels.job, t.labels.instance, t.labels.color ?? '', t.health]).sort()).toEqual([
      ['model-server', 'blue:8080', 'blue', 'up'],
      ['platform', 'platform:8080', '', 'up'],
    ]);
  });

  it('promotes a pushed version to green, a container the platform starts on the stack network, scraped by Prometheus', async () => {
    const ref = await pushVersionCopy(home, V2);
    const push = await stack(['push', join(home.dir, 'versions', V2)]);
    expect(push.code, failure(push)).toBe(0);
    expect(push.stdout).toContain(`${ref} pushed to the stack's registry`);

    traffic = startTraffic(routerUrl, { concurrency: 2, pauseMs: 5, maxSeconds: 600 });
    // Loose latency limit: the analysis is not under test, and the machine runs other suites at the same time.
    const promote = await gsg(['promote', ref, '--steps', '50,100', '--interval', '2s', '--min-requests', '10', '--max-p99-ms', '10000', '--scale-down-delay', '10m', '--router', routerUrl], {
      GSG_ADMIN_TOKEN: token,
      GSG_HOME: home.dir,
    });
    expect(promote.code, promote.stdout + promote.stderr).toBe(0);
    expect(promote.stdout).toContain('(docker runtime)');

    const managed = await docker.listContainers({ filters: { label: [`${LABELS.managedBy}=${NAME}`] } });
    expect(managed.map((c) => [c.Labels[LABELS.color], c.Labels[LABELS.version], Object.keys(c.NetworkSettings.Networks)])).toEqual([['green', V2, [NAME]]]);
    const greenTarget = `${managed[0]!.Names[0]!.replace(/^\//, '')}:8080`;
    const targets = await prom.waitForTargets({ platform: 1, 'model-server': 2 }, { timeoutMs: 60_000 });
    expect(targets.filter((t) => t.labels.job === 'model-server').map((t) => [t.labels.instance, t.labels.color, t.labels.model_version]).sort()).toEqual([
      ['blue:8080', 'blue', v1],
      [greenTarget, 'green', V2],
    ]);
  }, 600_000);

  it('exports the promotion: production version, image size of both versions, green cold start', async () => {
    await prom.waitFor('gsg_alias_moves_total{alias="production"} > 0', undefined, 30_000);
    expect((await prom.vector('gsg_production_info')).map((s) => s.metric.model_version)).toEqual([V2]);
    expect((await prom.vector('gsg_image_size_bytes')).map((s) => s.metric.model_version).sort()).toEqual([v1, V2].sort());
    expect((await prom.vector('gsg_cold_start_seconds')).map((s) => [s.metric.model_version, s.metric.runtime])).toEqual([[V2, 'docker']]);
  });

  describe('dashboards', () => {
    beforeAll(async () => {
      // Recording rules (5 s evaluation) over green's traffic.
      await prom.waitFor('color_version:gsg_server_requests:rate1m{color="green"} > 0', undefined, 90_000);
    }, 120_000);

    it.each(variableQueries())('$dashboard: variable $variable ($raw) has values', async ({ expr }) => {
      expect((await prom.vector(expr)).length).toBeGreaterThan(0);
    });

    it.each(dashboardQueries())('$dashboard / $panel [$refId] parses and returns data', async (q) => {
      expect(await missingQueryData(prom, q)).toEqual([]);
    });
  });

  it('answered every client request as expected during the promotion', async () => {
    const result = await traffic!.stop();
    traffic = undefined;
    expect(result.unexpected).toEqual([]);
    expect(Object.keys(result.byStatus).sort()).toEqual(['200', '400', '422']);
  });

  it('stack:down leaves nothing behind: containers, green, network, volumes', async () => {
    down = await stack(['down']);
    expect(down.code, failure(down)).toBe(0);
    expect(await leftovers()).toEqual([]);
  }, 180_000);
}));
