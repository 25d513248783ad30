// The platform process (`gsg up`, what `npm start` runs): registry bootstrap, the router, the model servers of both
// colors through a Runtime, the rollout controller and the platform metrics — one long-running process that owns
// traffic. On start it reconciles what the last process left (router state, adopted servers, a rollout in progress).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry as MetricsRegistry, collectDefaultMetrics } from 'prom-client';
import { z } from 'zod';
import { BadInputError, errorMessage } from '../../lib/errors.js';
import { writeFileAtomic } from '../../lib/json-file.js';
import type { Logger } from '../../lib/log.js';
import { bundledModelsDir, gsgHome, platformDir } from '../../lib/paths.js';
import { newestVersionDir, readMetadata } from '../../models/artifact.js';
import { defaultActor } from '../../lib/actor.js';
import { openRegistry, type Registry } from '../../registry/registry.js';
import { NotFoundError } from '../../registry/errors.js';
import { createRouter, type RouterHandle } from '../../router/router.js';
import { fileStateStore } from '../../router/state.js';
import { targetGroupsFor, targetsDir, writeTargetsFile, type TargetGroup } from '../prometheus-image/file-sd.js';
import { createRolloutController, PRODUCTION_ALIAS, type RolloutController } from '../rollout/controller.js';
import { fileRolloutStore } from '../rollout/state.js';
import type { Color, Instance, Runtime, RuntimeKind } from '../runtime.js';
import { registerPlatformMetrics } from './metrics.js';
import { mountRolloutApi } from './rollout-api.js';
import { modelVersionAt, waitUntilReady } from '../runtimes/ready.js';

const Port = z.coerce.number().int().min(0).max(65535);

/** Everything `gsg up` can be told, from flags and the environment; one schema validates both. */
export const PlatformConfig = z.object({
  port: Port.default(8080),
  host: z.string().min(1).default('0.0.0.0'),
  runtime: z.enum(['process', 'docker']).default('process'),
  home: z.string().min(1),
  adminToken: z.string().min(16, 'must be at least 16 characters').optional(),
  modelName: z.string().default('sentiment-logreg'),
  /** The bundled version directory registered at start (default: the newest under models/sentiment-logreg). */
  bundledDir: z.string().optional(),
  /** An upstream for blue that no runtime of ours started (the compose stack's `blue` service). */
  blueUrl: z.string().url().optional(),
  dockerNetwork: z.string().default('gsg'),
  dockerUrlMode: z.enum(['published', 'network']).default('published'),
  /** The DockerRuntime's owner label (gsg.managed-by) and container-name prefix: one per platform sharing an engine. */
  dockerOwner: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'expected lowercase letters, digits, ".", "_" or "-"').default('gsg'),
  targetsDir: z.string().min(1),
  graceMs: z.coerce.number().int().nonnegative().default(10_000),
});
export type PlatformConfig = z.infer<typeof PlatformConfig>;

export function platformConfigFrom(flags: { port?: unknown; host?: unknown; runtime?: unknown }, env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  const parsed = PlatformConfig.safeParse({
    port: flags.port ?? env.GSG_PORT ?? undefined,
    host: flags.host ?? env.GSG_HOST ?? undefined,
    runtime: flags.runtime ?? env.GSG_RUNTIME ?? undefined,
    home: gsgHome(env),
    adminToken: env.GSG_ADMIN_TOKEN || undefined,
    modelName: env.GSG_MODEL_NAME || undefined,
    bundledDir: env.GSG_BUNDLED_MODEL || undefined,
    blueUrl: env.GSG_BLUE_URL || undefined,
    dockerNetwork: env.GSG_DOCKER_NETWORK || undefined,
    dockerUrlMode: env.GSG_DOCKER_URL_MODE || undefined,
    dockerOwner: env.GSG_DOCKER_OWNER || undefined,
    targetsDir: targetsDir(env),
    graceMs: env.GSG_GRACE_MS || undefined,
  });
  if (!parsed.success) {
    const names: Record<string, string> = { port: '--port/GSG_PORT', host: '--host/GSG_HOST', runtime: '--runtime/GSG_RUNTIME', adminToken: 'GSG_ADMIN_TOKEN', blueUrl: 'GSG_BLUE_URL', dockerUrlMode: 'GSG_DOCKER_URL_MODE', dockerOwner: 'GSG_DOCKER_OWNER', graceMs: 'GSG_GRACE_MS' };
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? '');
    throw new BadInputError(`${names[field] ?? field}: ${issue.message}`);
  }
  return parsed.data;
}

export interface PlatformHandle {
  url: string;
  adminToken: string;
  router: RouterHandle;
  controller: RolloutController;
  registry: Registry;
  /** Stops everything this platform started, draining first. */
  close(): Promise<void>;
}

/** GSG_ADMIN_TOKEN, else the token this platform generated before (kept in $GSG_HOME/platform/admin-token, mode 600). */
export async function adminTokenFor(cfg: Pick<PlatformConfig, 'adminToken' | 'home'>): Promise<string> {
  if (cfg.adminToken) return cfg.adminToken;
  const file = join(platformDir(cfg.home), 'admin-token');
  const saved = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (saved.length >= 16) return saved;
  const token = randomBytes(24).toString('base64url');
  await writeFileAtomic(file, `${token}\n`, 0o600);
  return token;
}

/** Registers the bundled version (if missing) and points `production` at it when the alias is unset. */
async function bootstrapRegistry(registry: Registry, cfg: PlatformConfig, log: Logger): Promise<string> {
  const root = bundledModelsDir();
  const dir = cfg.bundledDir ?? (await newestVersionDir(root)) ?? root;
  const meta = await readMetadata(dir).catch((err) => {
    throw new BadInputError(`no bundled model to serve: ${errorMessage(err)}`);
  });
  try {
    await registry.resolve(`${meta.model_name}@${meta.version}`);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    await registry.push(dir, { actor: 'gsg up' });
    log.info({ event: 'platform.bundled_model_pushed', model_name: meta.model_name, version: meta.version }, `pushed the bundled model ${meta.model_name}@${meta.version}`);
  }
  const production = (await registry.aliases(cfg.modelName))[PRODUCTION_ALIAS];
  if (production) return production;
  await registry.setAlias(cfg.modelName, PRODUCTION_ALIAS, meta.version, { expect: null, actor: defaultActor(), reason: 'gsg up: first start, the bundled model' }).catch(async (err) => {
    // Another platform process set it first: fine, use theirs.
    if (!(await registry.aliases(cfg.modelName))[PRODUCTION_ALIAS]) throw err;
  });
  return (await registry.aliases(cfg.modelName))[PRODUCTION_ALIAS]!;
}

export async function startPlatform(cfg: PlatformConfig, deps: { logger: Logger; env?: NodeJS.ProcessEnv }): Promise<PlatformHandle> {
  const log = deps.logger;
  const env = deps.env ?? process.env;
  const registry = await openRegistry(env, { logger: log });
  const production = await bootstrapRegistry(registry, cfg, log);
  const token = await adminTokenFor(cfg);

  const metricsRegistry = new MetricsRegistry();
  collectDefaultMetrics({ register: metricsRegistry });
  const metrics = registerPlatformMetrics(metricsRegistry, { home: cfg.home, logger: log });
  metrics.setProduction(cfg.modelName, production);

  const router = await createRouter({
    state: fileStateStore(join(platformDir(cfg.home), 'router.json')),
    logger: log,
    adminToken: token,
    // POST /admin/rollouts carries the golden set (up to 20,000 labelled reviews).
    adminBodyLimitBytes: 32 * 1024 * 1024,
    metricsRegistry,
    graceMs: cfg.graceMs,
  });

  const runtimes = new Map<RuntimeKind, Runtime>();
  const runtimeFactories: Record<RuntimeKind, () => Promise<Runtime>> = {
    process: async () => new (await import('../runtimes/process-runtime.js')).ProcessRuntime({ stateFile: join(platformDir(cfg.home), 'runtime.json'), logger: log, graceMs: cfg.graceMs }),
    docker: async () =>
      new (await import('../runtimes/docker-runtime.js')).DockerRuntime({ network: cfg.dockerNetwork, urlMode: cfg.dockerUrlMode, owner: cfg.dockerOwner, logger: log, graceMs: cfg.graceMs }),
  };
  const ensureRuntime = async (kind: RuntimeKind) => {
    let rt = runtimes.get(kind);
    if (!rt) {
      rt = await runtimeFactories[kind]();
      runtimes.set(kind, rt);
    }
    return rt;
  };
  const defaultRuntime = await ensureRuntime(cfg.runtime);
  const runtimeFor = (kind?: RuntimeKind): Runtime => {
    const rt = runtimes.get(kind ?? cfg.runtime);
    if (!rt) throw new Error(`the ${kind} runtime is not enabled on this platform`);
    return rt;
  };

  let url = '';
  let writingTargets = Promise.resolve();
  const writeTargets = () => {
    writingTargets = writingTargets
      .then(async () => {
        const state = router.getState();
        const instances: Instance[] = (await Promise.all([...runtimes.values()].map((rt) => rt.list().catch(() => [])))).flat();
        const groups: TargetGroup[] = [];
        for (const color of ['blue', 'green'] as const) {
          const s = state[color];
          if (!s.url || !s.version) continue;
          const inst = instances.find((i) => i.color === color && i.url === s.url);
          const target = inst?.metricsTarget ?? new URL(s.url).host;
          groups.push(...targetGroupsFor([{ color, version: s.version, metricsTarget: target }]));
        }
        await writeTargetsFile(cfg.targetsDir, groups);
      })
      .catch((err) => log.warn({ event: 'platform.targets_write_failed', err: errorMessage(err) }, 'could not write Prometheus targets'));
    return writingTargets;
  };

  const rolloutStore = fileRolloutStore(platformDir(cfg.home));
  const controller = createRolloutController({
    // targets.json lists the colors the router points at: rewrite it once an upstream change is applied (the
    // runtime's instancesChanged fires before the controller points the router at a new instance).
    traffic: {
      getState: () => router.getState(),
      setWeights: (weights, o) => router.setWeights(weights, o),
      setUpstream: async (color, upstream, o) => {
        const view = await router.setUpstream(color, upstream, o);
        void writeTargets();
        return view;
      },
      stats: () => router.stats(),
    },
    routerUrl: () => url,
    registry,
    store: rolloutStore,
    runtime: runtimeFor,
    modelName: cfg.modelName,
    logger: log,
    observer: { ...metrics, instancesChanged: () => void writeTargets() },
    stopGraceMs: cfg.graceMs,
  });

  // Reconcile: every color that carries traffic must have a live server; servers nobody routes to are stopped.
  const external = new Set<string>();
  if (cfg.blueUrl) {
    const blueUrl = cfg.blueUrl.replace(/\/+$/, '');
    external.add(blueUrl);
    const s = router.getState();
    if (!s.blue.url && !s.green.url) {
      await waitUntilReady(blueUrl, { timeoutMs: 120_000, intervalMs: 500 });
      const version = await modelVersionAt(blueUrl);
      await router.setUpstream('blue', { url: blueUrl, version }, { reason: 'gsg up: external blue (GSG_BLUE_URL)' });
      await router.setWeights({ blue: 100, green: 0 }, { reason: 'gsg up' });
    }
  }
  const adopted = await defaultRuntime.list();
  for (const color of ['blue', 'green'] as Color[]) {
    const s = router.getState()[color];
    if (!s.url || external.has(s.url)) continue;
    if (adopted.some((i) => i.color === color && i.url === s.url)) continue;
    if (s.weight > 0 && s.version) {
      log.info({ event: 'platform.restarting_color', color, version: s.version }, `${color} (${s.version}) carries ${s.weight}% of traffic but is not running: starting it`);
      await controller.startColor(color, s.version);
    } else {
      await router.setUpstream(color, null, { reason: 'gsg up: upstream no longer running' });
    }
  }
  for (const inst of adopted) {
    if (router.getState()[inst.color].url !== inst.url) {
      log.info({ event: 'platform.stopping_stray', color: inst.color, version: inst.version }, 'stopping a server no color routes to');
      await defaultRuntime.stop(inst.id).catch(() => undefined);
    }
  }
  const s = router.getState();
  if (!s.blue.url && !s.green.url) {
    await controller.startColor('blue', production);
    await router.setWeights({ blue: 100, green: 0 }, { reason: 'gsg up: production as blue' });
  }
  const pending = await rolloutStore.load();
  if (pending?.spec.runtime) await ensureRuntime(pending.spec.runtime);
  await controller.recover(pending ?? null);
  // A rollout may ask for the other runtime (e.g. --runtime docker on a process platform): create it on demand.
  const api: RolloutController = { ...controller, submit: async (spec) => (spec.runtime && (await ensureRuntime(spec.runtime)), controller.submit(spec)) };
  mountRolloutApi(router.admin, api, { defaultActor: defaultActor(env) });
  url = await router.listen(cfg.port, cfg.host);
  await writeTargets();

  let closed: Promise<void> | undefined;
  return {
    url,
    adminToken: token,
    router,
    controller,
    registry,
    close() {
      closed ??= (async () => {
        await controller.close();
        await router.close();
        await Promise.all([...runtimes.values()].map((rt) => rt.close().catch((err) => log.warn({ event: 'platform.runtime_close_failed', err: errorMessage(err) }, 'runtime close failed'))));
        await writeTargets();
        log.info({ event: 'platform.stopped' }, 'platform stopped');
      })();
      return closed;
    },
  };
}
