// The docker-compose stack as three operations: up (build the images it needs, write .env, `docker-compose up -d`,
// wait for the router), push (a new model version into the running platform: its image built here, the version
// pushed to the platform's registry, its build record copied for gsg_image_size_bytes) and down (everything removed,
// the green containers the platform started through its DockerRuntime included — they are not compose services).
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { projectRoot, bundledModelsDir } from '../../lib/paths.js';
import { GsgError } from '../../lib/errors.js';
import { newestVersionDir, readMetadata, type ModelMetadata } from '../../models/artifact.js';
import { NODE_UID } from '../base-image/rootfs.js';
import { buildRecordPath, type BuildRecord } from '../images/build-record.js';
import { buildModelImage } from '../images/build-image.js';
import { connectDocker, type Docker } from '../images/docker.js';
import { modelEntries } from '../images/context.js';
import { packTar, type TarEntry } from '../images/tar.js';
import { buildPlatformImage } from '../platform-image/build-image.js';
import { ensurePrometheusImage } from '../prometheus-image/image.js';
import { demuxLogs, LABELS } from '../runtimes/docker-runtime.js';
import { waitUntilReady } from '../runtimes/ready.js';
import { imageAvailable, stackBaseImages } from './base-images.js';
import { compose, composeDefault, publishedUrl, serviceContainer, type ComposeProject } from './compose.js';
import { readEnvFile, updateEnvFile, type EnvFile } from './env-file.js';

/** What the platform image and compose file fix: $GSG_HOME in the container, the CLI, the Docker socket. */
export const PLATFORM_HOME = '/var/lib/gsg';
const PLATFORM_CLI = ['node', 'dist/infra/cli/main.js'];
const DOCKER_SOCKET = '/var/run/docker.sock';
const GRAFANA_PROFILE = 'grafana';
const ENV_HEADER = '# Written by `npm run stack` (docker-compose reads it). Secrets: keep this file private (mode 600, gitignored).';

/** A failure of a stack operation (not running, not ready, a push refused). */
export class StackError extends GsgError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super(message, { code: 'stack', context, cause });
  }
}

export interface StackOptions {
  docker?: Docker;
  /** Environment: GSG_STACK_NAME, ports, images, tokens (wins over the env file). Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The env file compose reads (default $GSG_STACK_ENV_FILE, else <project>/.env). */
  envFile?: string;
  /** Host $GSG_HOME: build records of the images built here. */
  home?: string;
  baseImage?: string;
  runtimeBaseImage?: string;
  onLine?: (line: string) => void;
}

export interface StackInfo {
  name: string;
  network: string;
  routerUrl: string;
  prometheusUrl: string;
  /** Undefined when Grafana was not started. */
  grafanaUrl?: string;
  adminToken: string;
  grafanaPassword: string;
  /** Why Grafana was not started. */
  grafanaSkipped?: string;
  images: { platform: string; blue: string; prometheus: string; grafana: string };
  seconds: number;
}

const DEFAULT_STACK_NAME = 'gsg-stack';

async function project(opts: StackOptions): Promise<{ project: ComposeProject; file: EnvFile; env: NodeJS.ProcessEnv }> {
  const env = opts.env ?? process.env;
  const file = await readEnvFile(opts.envFile ?? env.GSG_STACK_ENV_FILE ?? join(projectRoot(), '.env'));
  const name = env.GSG_STACK_NAME || file.values.GSG_STACK_NAME || DEFAULT_STACK_NAME;
  return { project: { name, envFile: file.path, env: { ...process.env, ...env, GSG_STACK_NAME: name } }, file, env };
}

const secret = (bytes: number) => randomBytes(bytes).toString('base64url');

async function newestBundledDir(): Promise<string> {
  const dir = await newestVersionDir(bundledModelsDir());
  if (!dir) throw new StackError(`no bundled model version under ${bundledModelsDir()}`);
  return dir;
}

/** Builds what the stack needs, writes the env file, starts it and waits until the router is ready. */
export async function stackUp(opts: StackOptions & { grafana?: boolean; readyTimeoutMs?: number } = {}): Promise<StackInfo> {
  const t0 = performance.now();
  const onLine = opts.onLine ?? (() => {});
  const docker = opts.docker ?? connectDocker();
  await docker.ping().catch((err: unknown) => {
    throw new StackError(`no Docker engine answers (${(err as Error).message}); start dockerd`, {}, err);
  });
  const { project: proj, file, env } = await project(opts);
  const socketGid = await stat(DOCKER_SOCKET).then(
    (s) => String(s.gid),
    () => {
      throw new StackError(`${DOCKER_SOCKET} does not exist: the platform service mounts it to start model-server containers`);
    },
  );

  const bases = await stackBaseImages(docker, { baseImage: opts.baseImage, runtimeBaseImage: opts.runtimeBaseImage, env, onLine });
  onLine(`building the images (base ${bases.baseImage}, runtime base ${bases.runtimeBaseImage})`);
  const blue = await buildModelImage(await newestBundledDir(), { docker, ...bases, home: opts.home, onLine });
  const platform = await buildPlatformImage({ docker, ...bases, onLine });
  const prometheus = await ensurePrometheusImage({ docker, onLine });
  const grafanaImage = env.GSG_GRAFANA_IMAGE || file.values.GSG_GRAFANA_IMAGE || composeDefault('GSG_GRAFANA_IMAGE');
  const grafana = opts.grafana ?? (await imageAvailable(docker, grafanaImage, onLine));
  const grafanaSkipped = grafana
    ? undefined
    : opts.grafana === false
      ? 'disabled (--no-grafana)'
      : `${grafanaImage} is not available locally and cannot be pulled (docker pull it or docker load it, then run npm run stack again)`;

  // Secrets: the environment's, else the env file's, else generated into the env file.
  const updates: Record<string, string> = {
    GSG_STACK_NAME: proj.name,
    COMPOSE_PROJECT_NAME: proj.name,
    GSG_DOCKER_GID: socketGid,
    GSG_PLATFORM_IMAGE: platform.tags[0]!,
    GSG_BLUE_IMAGE: blue.image,
    GSG_PROMETHEUS_IMAGE: prometheus.tags[0]!,
  };
  if (!env.GSG_ADMIN_TOKEN && !file.values.GSG_ADMIN_TOKEN) updates.GSG_ADMIN_TOKEN = secret(24);
  if (!env.GRAFANA_ADMIN_PASSWORD && !file.values.GRAFANA_ADMIN_PASSWORD) updates.GRAFANA_ADMIN_PASSWORD = secret(18);
  const written = await updateEnvFile(file, updates, ENV_HEADER);
  const adminToken = env.GSG_ADMIN_TOKEN || written.values.GSG_ADMIN_TOKEN!;
  const grafanaPassword = env.GRAFANA_ADMIN_PASSWORD || written.values.GRAFANA_ADMIN_PASSWORD!;
  // Values just derived win over stale ones in the caller's environment (compose prefers the environment).
  const composeProject = { ...proj, env: { ...proj.env, ...updates } };

  onLine(`starting stack ${proj.name}${grafana ? '' : ' without Grafana'}`);
  await compose(composeProject, ['up', '-d', '--remove-orphans'], { profiles: grafana ? [GRAFANA_PROFILE] : [], onLine });
  const routerUrl = await publishedUrl(docker, proj.name, 'platform', 8080);
  await copyBuildRecords(docker, proj.name, [blue]);
  await waitReady(routerUrl, opts.readyTimeoutMs ?? 120_000, async () => (await compose(composeProject, ['logs', '--tail', '30', 'platform'], { allowFailure: true })).stdout);
  return {
    name: proj.name,
    network: proj.name,
    routerUrl,
    prometheusUrl: await publishedUrl(docker, proj.name, 'prometheus', 9090),
    ...(grafana ? { grafanaUrl: await publishedUrl(docker, proj.name, 'grafana', 3000) } : { grafanaSkipped }),
    adminToken,
    grafanaPassword,
    images: { platform: platform.tags[0]!, blue: blue.image, prometheus: prometheus.tags[0]!, grafana: grafanaImage },
    seconds: +((performance.now() - t0) / 1000).toFixed(1),
  };
}

/** Waits for GET <url>/ready to answer 200; on timeout a StackError with the diagnostics (the platform's log) appended. */
async function waitReady(url: string, timeoutMs: number, diagnostics: () => Promise<string>): Promise<void> {
  try {
    await waitUntilReady(url, { timeoutMs, intervalMs: 500 });
  } catch (err) {
    throw new StackError(`${(err as Error).message}\n${await diagnostics().catch(() => '')}`, { url }, err);
  }
}

async function platformContainer(docker: Docker, name: string): Promise<Docker.Container> {
  const c = await serviceContainer(docker, name, 'platform');
  if (!c) throw new StackError(`the platform of stack ${name} is not running (npm run stack)`, { stack: name });
  return docker.getContainer(c.Id);
}

/** Copies files into the platform's $GSG_HOME volume, owned by its user (the root filesystem is read-only). */
async function putIntoHome(container: Docker.Container, entries: TarEntry[]): Promise<void> {
  const owned = entries.map((e) => (e.type === 'symlink' ? e : { ...e, uid: NODE_UID, gid: NODE_UID }));
  await container.putArchive(packTar(owned), { path: PLATFORM_HOME });
}

/** The build records go to the platform's $GSG_HOME/builds, where it reads gsg_image_size_bytes from. */
async function copyBuildRecords(docker: Docker, name: string, records: BuildRecord[]): Promise<void> {
  const container = await platformContainer(docker, name);
  await putIntoHome(container, [
    { type: 'directory', name: 'builds' },
    ...records.map((r): TarEntry => ({ type: 'file', name: `builds/${basename(buildRecordPath(r.modelName, r.version))}`, content: `${JSON.stringify(r, null, 2)}\n`, mode: 0o644 })),
  ]);
}

/** Runs a command in a container as its user; exit code and output. */
async function execIn(container: Docker.Container, cmd: string[]): Promise<{ code: number; output: string }> {
  const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, WorkingDir: '/app' });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return { code: (await exec.inspect()).ExitCode ?? -1, output: demuxLogs(Buffer.concat(chunks)).trim() };
}

export interface PushResult {
  ref: string;
  record: BuildRecord;
  /** False when the platform's registry already had this version (same content). */
  pushed: boolean;
  output: string;
}

/**
 * Whether the version `gsg registry show <ref> --json` printed (its manifest's metadata) lists the same files, with
 * the same sizes and hashes, as `files` (a version directory's metadata.files), in any order.
 */
export function sameFiles(showJson: string, files: ModelMetadata['files']): boolean {
  const shown = JSON.parse(showJson) as { manifest?: { metadata?: { files?: ModelMetadata['files'] } } };
  const canonical = (f: ModelMetadata['files'] | undefined) =>
    f === undefined ? undefined : JSON.stringify(Object.entries(f).map(([path, e]) => [path, e.sha256, e.size]).sort(([a], [b]) => String(a).localeCompare(String(b))));
  return canonical(shown.manifest?.metadata?.files) === canonical(files);
}

/**
 * Makes a model version directory promotable in the running stack: builds its model-server image here (reused when
 * unchanged), copies the directory into the platform's volume and runs `gsg registry push` there, and copies the
 * build record so the platform exports its image size.
 */
export async function pushToStack(dir: string, opts: StackOptions = {}): Promise<PushResult> {
  const onLine = opts.onLine ?? (() => {});
  const docker = opts.docker ?? connectDocker();
  const { project: proj, env } = await project(opts);
  // Name and version only: buildModelImage verifies every file's hash right after.
  const metadata = await readMetadata(dir);
  const container = await platformContainer(docker, proj.name);
  const bases = await stackBaseImages(docker, { baseImage: opts.baseImage, runtimeBaseImage: opts.runtimeBaseImage, env, onLine });
  const record = await buildModelImage(dir, { docker, ...bases, home: opts.home, onLine });
  const incoming = `incoming/${metadata.model_name}-${metadata.version}-${randomBytes(4).toString('hex')}`;
  await putIntoHome(container, [{ type: 'directory', name: 'incoming' }, ...(await modelEntries(dir, incoming))]);
  try {
    const ref = `${metadata.model_name}@${metadata.version}`;
    const r = await execIn(container, [...PLATFORM_CLI, 'registry', 'push', `${PLATFORM_HOME}/${incoming}`]);
    // Exit 4: the version exists; the same content is fine (a re-run), other content is a conflict.
    let pushed = r.code === 0;
    if (r.code === 4) {
      const show = await execIn(container, [...PLATFORM_CLI, 'registry', 'show', ref, '--json']);
      if (!sameFiles(show.output, metadata.files)) throw new StackError(`${ref} already exists in the stack's registry with other content: ${r.output}`, { ref });
      pushed = false;
    } else if (r.code !== 0) throw new StackError(`gsg registry push in the platform container failed (exit ${r.code}): ${r.output}`, { ref });
    await copyBuildRecords(docker, proj.name, [record]);
    return { ref, record, pushed, output: r.output };
  } finally {
    await execIn(container, ['node', '-e', `require('node:fs').rmSync(${JSON.stringify(`${PLATFORM_HOME}/${incoming}`)}, { recursive: true, force: true })`]).catch(() => undefined);
  }
}

export interface DownResult {
  name: string;
  /** Containers the platform had started (green, ...) that were still there after the platform stopped. */
  removedManaged: string[];
}

/** Stops the stack: the platform first (it stops the containers it started), leftovers by label, then compose down -v. */
export async function stackDown(opts: StackOptions = {}): Promise<DownResult> {
  const onLine = opts.onLine ?? (() => {});
  const docker = opts.docker ?? connectDocker();
  const { project: proj, file } = await project(opts);
  // down interpolates the whole file: required variables need some value even when .env is gone.
  const required = { GSG_DOCKER_GID: '0', GRAFANA_ADMIN_PASSWORD: 'unused-by-down', GSG_BLUE_IMAGE: 'unused-by-down', ...file.values };
  const p: ComposeProject = { ...proj, env: { ...required, ...proj.env } };
  onLine(`stopping stack ${proj.name}`);
  await compose(p, ['stop', '-t', '40', 'platform'], { onLine, allowFailure: true });
  const managed = await docker.listContainers({ all: true, filters: { label: [`${LABELS.managedBy}=${proj.name}`] } });
  for (const c of managed) {
    onLine(`removing ${c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12)} (started by the platform)`);
    await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  }
  await compose(p, ['down', '-v', '--remove-orphans', '-t', '15'], { profiles: [GRAFANA_PROFILE], onLine });
  // A network the platform's DockerRuntime created itself (stack never fully up) is not compose's to remove.
  for (const n of await docker.listNetworks({ filters: { name: [proj.name] } })) {
    if (n.Name === proj.name && (n.Labels?.[LABELS.managedBy] === proj.name || n.Labels?.['com.docker.compose.project'] === proj.name)) {
      await docker.getNetwork(n.Id).remove().catch(() => undefined);
    }
  }
  return { name: proj.name, removedManaged: managed.map((c) => c.Names[0]?.replace(/^\//, '') ?? c.Id) };
}

