// DockerRuntime (dockerode): each model version runs as a locked-down container of its image (built through the image
// builder when missing) on a user network; labels name the color, version and owner, so a restarted owner finds its
// containers with list(). stop = `docker stop` with the grace period (the server drains), then remove.
import { z } from 'zod';
import { createLogger, type Logger } from '../../lib/log.js';
import { artifactSha256, readMetadata } from '../../models/artifact.js';
import { buildModelImage, imageRef, type BuildImageOptions } from '../images/build-image.js';
import { connectDocker, imageExists, type Docker } from '../images/docker.js';
import { Color, type Instance, type Runtime, type StartSpec } from '../runtime.js';
import { InstanceNotFoundError, RuntimeError, waitUntilReady } from './ready.js';

export const LABELS = {
  color: 'gsg.color',
  modelName: 'gsg.model.name',
  version: 'gsg.model.version',
  managedBy: 'gsg.managed-by',
} as const;
const SERVER_PORT = 8080;

export interface DockerRuntimeOptions {
  docker?: Docker;
  /** User-defined bridge network the containers join (created if missing; default "gsg"). */
  network?: string;
  /** Which URL instances report: 'published' (127.0.0.1:<random host port>, for callers on the host, default) or
   *  'network' (http://<container name>:8080, for callers on the same Docker network). */
  urlMode?: 'published' | 'network';
  /** Value of the gsg.managed-by label: list() and close() only see this owner's containers (default "gsg"). */
  owner?: string;
  /** Container name prefix (default: the owner); names are <prefix>-<color>-<model>-<version>, DNS names on the network. */
  namePrefix?: string;
  memoryBytes?: number;
  cpus?: number;
  /** Grace period for stop() and the servers' GSG_GRACE_MS (default 10 s). */
  graceMs?: number;
  readyTimeoutMs?: number;
  /** /ready poll interval while starting (default 20 ms). */
  pollIntervalMs?: number;
  /** How missing images are built (base images, progress). */
  build?: BuildImageOptions;
  logger?: Logger;
}

/** DNS-label-safe: lowercase letters, digits and "-", at most 63 characters. */
function dnsName(...parts: string[]): string {
  return parts
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, 63)
    .replace(/-$/, '');
}

/** Decodes `docker logs` output of a non-TTY container (8-byte frame headers) into text. */
export function demuxLogs(buf: Buffer): string {
  let out = '';
  let i = 0;
  while (i + 8 <= buf.length && buf[i]! <= 2 && buf[i + 1] === 0) {
    const len = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + len).toString('utf8');
    i += 8 + len;
  }
  return i === 0 ? buf.toString('utf8') : out;
}

const statusCode = (err: unknown) => (err as { statusCode?: number }).statusCode;

export class DockerRuntime implements Runtime {
  readonly kind = 'docker' as const;
  private readonly docker: Docker;
  private readonly opts: Required<Omit<DockerRuntimeOptions, 'docker' | 'build' | 'logger'>>;
  private readonly buildOpts: BuildImageOptions;
  private readonly log: Logger;
  /** Instances this owner started or saw in list(): close() stops them. */
  private readonly known = new Map<string, Instance>();
  private readonly stopping = new Map<string, Promise<void>>();
  private readonly images = new Map<string, Promise<void>>();
  private network?: Promise<void>;

  constructor(opts: DockerRuntimeOptions = {}) {
    this.docker = opts.docker ?? connectDocker();
    const owner = opts.owner ?? 'gsg';
    this.opts = {
      network: opts.network ?? 'gsg',
      urlMode: opts.urlMode ?? 'published',
      owner,
      namePrefix: opts.namePrefix ?? owner,
      memoryBytes: opts.memoryBytes ?? 512 * 1024 * 1024,
      cpus: opts.cpus ?? 1,
      graceMs: opts.graceMs ?? 10_000,
      readyTimeoutMs: opts.readyTimeoutMs ?? 60_000,
      pollIntervalMs: opts.pollIntervalMs ?? 20,
    };
    this.buildOpts = { docker: this.docker, ...opts.build };
    this.log = opts.logger ?? createLogger({ name: 'docker-runtime' });
  }

  /** The version's image, built from spec.modelDir when missing or built from another model file. */
  private ensureImage(spec: StartSpec): Promise<void> {
    const tag = imageRef(spec.modelName, spec.version);
    let p = this.images.get(tag);
    if (!p) {
      p = (async () => {
        const sha = artifactSha256(await readMetadata(spec.modelDir));
        const info = await imageExists(this.docker, tag);
        if (info?.Config?.Labels?.['gsg.model.sha256'] === sha) return;
        this.log.info({ event: 'runtime.image_build', runtime: 'docker', image: tag, reason: info ? 'model sha256 differs' : 'missing' });
        await buildModelImage(spec.modelDir, this.buildOpts);
      })();
      // Shared by concurrent starts only: a later start checks again (the image may have been removed meanwhile).
      this.images.set(tag, p);
      const forget = () => this.images.delete(tag);
      p.then(forget, forget);
    }
    return p;
  }

  private ensureNetwork(): Promise<void> {
    this.network ??= (async () => {
      const name = this.opts.network;
      const found = await this.docker.listNetworks({ filters: { name: [name] } });
      if (found.some((n) => n.Name === name)) return;
      try {
        await this.docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: { [LABELS.managedBy]: this.opts.owner } });
        this.log.info({ event: 'runtime.network_created', runtime: 'docker', network: name });
      } catch (err) {
        if (statusCode(err) !== 409) throw err; // created concurrently
      }
    })().catch((err: unknown) => {
      this.network = undefined;
      throw new RuntimeError(`docker network ${this.opts.network}: ${(err as Error).message}`, { network: this.opts.network }, err);
    });
    return this.network;
  }

  /** Removes a leftover stopped container of the same name; refuses when one is running. */
  private async clearName(name: string): Promise<void> {
    let info;
    try {
      info = await this.docker.getContainer(name).inspect();
    } catch (err) {
      if (statusCode(err) === 404) return;
      throw err;
    }
    if (info.State.Running) throw new RuntimeError(`container ${name} is already running (stop it first)`, { name, id: info.Id });
    await this.docker.getContainer(name).remove({ force: true });
  }

  async start(spec: StartSpec): Promise<Instance> {
    const tag = imageRef(spec.modelName, spec.version);
    await Promise.all([this.ensureImage(spec), this.ensureNetwork()]);
    const name = dnsName(this.opts.namePrefix, spec.color, spec.modelName, spec.version);
    await this.clearName(name);
    const env = { GSG_GRACE_MS: String(this.opts.graceMs), ...spec.env };
    const startedAt = new Date();
    const t0 = performance.now();
    const container = await this.docker.createContainer({
      name,
      Image: tag,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: { [LABELS.color]: spec.color, [LABELS.modelName]: spec.modelName, [LABELS.version]: spec.version, [LABELS.managedBy]: this.opts.owner },
      ExposedPorts: { [`${SERVER_PORT}/tcp`]: {} },
      StopTimeout: Math.ceil(this.opts.graceMs / 1000) + 1,
      HostConfig: {
        NetworkMode: this.opts.network,
        PortBindings: { [`${SERVER_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
        ReadonlyRootfs: true,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        Memory: this.opts.memoryBytes,
        MemorySwap: this.opts.memoryBytes,
        NanoCpus: Math.round(this.opts.cpus * 1e9),
        PidsLimit: 256,
        Tmpfs: { '/tmp': 'rw,noexec,nosuid,size=64m' },
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
      },
      NetworkingConfig: { EndpointsConfig: { [this.opts.network]: { Aliases: [name] } } },
    });
    let phases: Record<string, number> = {};
    try {
      const created = performance.now();
      await container.start();
      const started = performance.now();
      phases = { create_ms: Math.round(created - t0), start_ms: Math.round(started - created) };
      const info = await container.inspect();
      const hostPort = info.NetworkSettings.Ports?.[`${SERVER_PORT}/tcp`]?.[0]?.HostPort;
      if (!hostPort) throw new RuntimeError(`container ${name}: port ${SERVER_PORT} was not published`, { name });
      const { url, metricsTarget } = this.addresses(name, hostPort);
      let lastCheck = 0;
      await waitUntilReady(url, {
        timeoutMs: this.opts.readyTimeoutMs,
        intervalMs: this.opts.pollIntervalMs,
        died: async () => {
          if (performance.now() - lastCheck < 250) return undefined;
          lastCheck = performance.now();
          const state = (await container.inspect()).State;
          return state.Running ? undefined : `container ${name} exited during start (code ${state.ExitCode})${await this.logTail(container)}`;
        },
      });
      const coldStartSeconds = (performance.now() - t0) / 1000;
      const instance: Instance = { id: container.id, runtime: 'docker', color: spec.color, modelName: spec.modelName, version: spec.version, url, metricsTarget, coldStartSeconds, startedAt: startedAt.toISOString() };
      this.known.set(instance.id, instance);
      this.log.info({ event: 'runtime.ready', runtime: 'docker', id: instance.id.slice(0, 12), name, color: spec.color, model_version: spec.version, url, cold_start_seconds: +coldStartSeconds.toFixed(3), ...phases });
      return instance;
    } catch (err) {
      const tail = err instanceof RuntimeError ? '' : await this.logTail(container);
      await container.remove({ force: true }).catch(() => {});
      if (err instanceof RuntimeError && !tail) throw err;
      throw new RuntimeError(`container ${name} did not become ready: ${(err as Error).message}${tail}`, { name, image: tag }, err);
    }
  }

  private addresses(name: string, hostPort: string): { url: string; metricsTarget: string } {
    return this.opts.urlMode === 'network'
      ? { url: `http://${name}:${SERVER_PORT}`, metricsTarget: `${name}:${SERVER_PORT}` }
      : { url: `http://127.0.0.1:${hostPort}`, metricsTarget: `127.0.0.1:${hostPort}` };
  }

  private async logTail(container: Docker.Container): Promise<string> {
    try {
      const buf = (await container.logs({ stdout: true, stderr: true, tail: 20, follow: false })) as unknown as Buffer;
      const text = demuxLogs(buf).trim();
      return text ? `\n--- last lines of the container's log ---\n${text}` : '';
    } catch {
      return '';
    }
  }

  async stop(id: string, opts: { graceMs?: number } = {}): Promise<void> {
    let p = this.stopping.get(id);
    if (!p) {
      p = this.stopContainer(id, opts.graceMs ?? this.opts.graceMs).finally(() => this.stopping.delete(id));
      this.stopping.set(id, p);
    }
    return p;
  }

  private async stopContainer(id: string, graceMs: number): Promise<void> {
    const container = this.docker.getContainer(id);
    let labels: Record<string, string>;
    try {
      labels = (await container.inspect()).Config.Labels ?? {};
    } catch (err) {
      this.known.delete(id);
      if (statusCode(err) === 404) throw new InstanceNotFoundError(id);
      throw err;
    }
    if (labels[LABELS.managedBy] !== this.opts.owner) throw new InstanceNotFoundError(id);
    this.log.info({ event: 'runtime.stop', runtime: 'docker', id: id.slice(0, 12), color: labels[LABELS.color], model_version: labels[LABELS.version], grace_ms: graceMs });
    try {
      await container.stop({ t: Math.ceil(graceMs / 1000) });
    } catch (err) {
      if (statusCode(err) !== 304) throw new RuntimeError(`docker stop ${id.slice(0, 12)}: ${(err as Error).message}`, { id }, err); // 304: already stopped
    }
    await container.remove({ force: true }).catch((err: unknown) => {
      if (statusCode(err) !== 404 && statusCode(err) !== 409) throw err; // gone, or removal already in progress
    });
    this.known.delete(id);
  }

  /** Running containers of this owner (found by label, so also those a previous owner process started). */
  async list(): Promise<Instance[]> {
    const containers = await this.docker.listContainers({ filters: { label: [`${LABELS.managedBy}=${this.opts.owner}`], status: ['running'] } });
    const out: Instance[] = [];
    for (const c of containers) {
      const color = Color.safeParse(c.Labels[LABELS.color]);
      const hostPort = c.Ports.find((p) => p.PrivatePort === SERVER_PORT && p.PublicPort)?.PublicPort;
      const name = (c.Names[0] ?? '').replace(/^\//, '');
      if (!color.success || !hostPort) continue;
      const known = this.known.get(c.Id);
      const instance: Instance = known ?? {
        id: c.Id,
        runtime: 'docker',
        color: color.data,
        modelName: c.Labels[LABELS.modelName] ?? '',
        version: c.Labels[LABELS.version] ?? '',
        ...this.addresses(name, String(hostPort)),
        // Unknown for a container started by a previous owner process.
        coldStartSeconds: 0,
        startedAt: new Date(c.Created * 1000).toISOString(),
      };
      this.known.set(c.Id, instance);
      out.push(instance);
    }
    return out;
  }

  /** Stops every container this owner started or listed. */
  async close(): Promise<void> {
    await Promise.all([...this.known.keys()].map((id) => this.stop(id).catch((err: unknown) => {
      if (!(err instanceof InstanceNotFoundError)) this.log.error({ event: 'runtime.stop_failed', runtime: 'docker', id: id.slice(0, 12), err: (err as Error).message });
    })));
  }
}

/** Options schema for configuration files and flags that pick the Docker runtime's URL mode. */
export const UrlMode = z.enum(['published', 'network']);
