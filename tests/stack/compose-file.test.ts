// docker-compose.yaml as a contract: valid for the installed docker-compose, the platform wired to what the
// DockerRuntime and Prometheus need (fixed network name, targets volume, socket, blue), every service with a health
// check and a restart policy, images/ports/names from the environment with defaults, no secret in the file, the
// required variables named when missing (blue's image among them: it changes with the bundled model), Grafana
// behind a profile.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectRoot } from '../../lib/paths.js';
import { compose, COMPOSE_FILE, type ComposeProject } from '../../infra/stack/compose.js';
import { describeDocker } from '../helpers/docker.js';

interface Service {
  image: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
  restart?: string;
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  networks?: string[];
  group_add?: string[];
}
const text = readFileSync(join(projectRoot(), COMPOSE_FILE), 'utf8');
const file = parse(text) as { version?: string; services: Record<string, Service>; networks: Record<string, { name: string }>; volumes: Record<string, unknown> };
const { platform, blue, prometheus, grafana } = file.services as Record<'platform' | 'blue' | 'prometheus' | 'grafana', Service>;

it('is a compose-spec file without `version:` (read by docker-compose 1.29 and docker compose v2)', () => {
  expect(file.version).toBeUndefined();
  expect(Object.keys(file.services).sort()).toEqual(['blue', 'grafana', 'platform', 'prometheus']);
});

it('gives the platform a fixed network name for the containers its DockerRuntime starts, and reaches blue by name', () => {
  expect(file.networks.gsg!.name).toBe('${GSG_STACK_NAME:-gsg-stack}');
  expect(platform.environment).toMatchObject({
    GSG_RUNTIME: 'docker',
    GSG_BLUE_URL: 'http://blue:8080',
    GSG_DOCKER_NETWORK: file.networks.gsg!.name,
    GSG_DOCKER_OWNER: file.networks.gsg!.name,
    GSG_DOCKER_URL_MODE: 'network',
  });
  for (const s of Object.values(file.services)) expect(s.networks).toEqual(['gsg']);
});

it('shares the targets volume between the platform (GSG_TARGETS_DIR) and Prometheus, mounts the Docker socket and the config', () => {
  expect(platform.volumes).toContain(`targets:${platform.environment!.GSG_TARGETS_DIR}`);
  expect(prometheus.volumes).toContain('targets:/etc/prometheus/targets:ro');
  expect(platform.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
  expect(platform.volumes).toContain(`gsg-home:${platform.environment!.GSG_HOME}`);
  expect(prometheus.volumes).toEqual(expect.arrayContaining(['./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro', './prometheus/rules:/etc/prometheus/rules:ro', 'prometheus-data:/prometheus']));
  expect(grafana.volumes).toEqual(expect.arrayContaining(['./grafana/provisioning:/etc/grafana/provisioning:ro', './grafana/dashboards:/var/lib/grafana/dashboards:ro']));
  expect(Object.keys(file.volumes).sort()).toEqual(['grafana-data', 'gsg-home', 'prometheus-data', 'targets']);
});

it('has a health check and restart: unless-stopped on every service, and starts the platform once blue is healthy', () => {
  for (const [name, s] of Object.entries(file.services)) {
    expect(s.healthcheck?.test[0], name).toBe('CMD');
    expect(s.restart, name).toBe('unless-stopped');
  }
  expect(platform.depends_on).toEqual({ blue: { condition: 'service_healthy' } });
  expect(grafana.depends_on).toEqual({ prometheus: { condition: 'service_healthy' } });
});

it('takes images, host ports and the bind address from the environment, with defaults', () => {
  expect([platform.image, blue.image, prometheus.image, grafana.image]).toEqual([
    '${GSG_PLATFORM_IMAGE:-gsg-platform:latest}',
    expect.stringMatching(/^\$\{GSG_BLUE_IMAGE:\?.+\}$/),
    '${GSG_PROMETHEUS_IMAGE:-gsg-prometheus:latest}',
    expect.stringMatching(/^\$\{GSG_GRAFANA_IMAGE:-grafana\/grafana:/),
  ]);
  expect(platform.ports).toEqual(['${GSG_STACK_HOST_IP:-127.0.0.1}:${GSG_ROUTER_PORT-8080}:8080']);
  expect(prometheus.ports).toEqual(['${GSG_STACK_HOST_IP:-127.0.0.1}:${GSG_PROMETHEUS_PORT-9090}:9090']);
  expect(grafana.ports).toEqual(['${GSG_STACK_HOST_IP:-127.0.0.1}:${GSG_GRAFANA_PORT-3000}:3000']);
  expect(blue.ports).toBeUndefined();
});


it('holds no secret: the admin token and the Grafana password come from the environment', () => {
  expect(platform.environment!.GSG_ADMIN_TOKEN).toBe('${GSG_ADMIN_TOKEN:-}');
  expect(grafana.environment!.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?.+\}$/);
  for (const s of Object.values(file.services)) {
    for (const [k, v] of Object.entries(s.environment ?? {})) if (/TOKEN|PASSWORD|SECRET|KEY/.test(k)) expect(v, k).toMatch(/^\$\{/);
  }
});

it('puts Grafana behind the "grafana" profile, the only service that needs an image from Docker Hub', () => {
  expect(grafana.profiles).toEqual(['grafana']);
  for (const s of [platform, blue, prometheus]) expect(s.profiles).toBeUndefined();
});

/** The variables without a default (npm run stack writes them to .env). */
const REQUIRED: Record<string, string> = { GSG_DOCKER_GID: '999', GRAFANA_ADMIN_PASSWORD: 'not-a-real-password', GSG_BLUE_IMAGE: 'gsg-model-server:sentiment-logreg-2026-01-01.001' };

describeDocker('docker-compose config', () => {
  let dir: string;
  let project: (env: Record<string, string>) => ComposeProject;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gsg-compose-'));
    await writeFile(join(dir, 'empty.env'), '');
    // Only the variables given here: nothing from a developer's .env or shell.
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GSG_') && !k.startsWith('GRAFANA_')));
    project = (env) => ({ name: 'gsg-compose-config-test', envFile: join(dir, 'empty.env'), env: { ...clean, ...env } });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('accepts the file once the required variables are set', async () => {
    const r = await compose(project({ ...REQUIRED }), ['config', '--quiet'], { allowFailure: true });
    expect(r.code, r.stderr).toBe(0);
  });

  it.each([
    ['GSG_DOCKER_GID', 'set GSG_DOCKER_GID to the group id of /var/run/docker.sock'],
    ['GRAFANA_ADMIN_PASSWORD', 'set GRAFANA_ADMIN_PASSWORD'],
    ['GSG_BLUE_IMAGE', "set GSG_BLUE_IMAGE to the production version's model-server image"],
  ])('names %s when it is missing', async (name, message) => {
    const { [name]: _, ...rest } = REQUIRED;
    const r = await compose(project(rest), ['config', '--quiet'], { allowFailure: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it('publishes on random host ports when the port variables are set but empty', async () => {
    const r = await compose(project({ ...REQUIRED, GSG_ROUTER_PORT: '' }), ['config'], { allowFailure: true });
    expect(r.code, r.stderr).toBe(0);
    const resolved = parse(r.stdout) as { services: Record<string, { ports?: unknown[] }> };
    expect(JSON.stringify(resolved.services.platform!.ports)).not.toContain('8080:8080');
    expect(JSON.stringify(resolved.services.prometheus!.ports)).toContain('9090');
  });
});
