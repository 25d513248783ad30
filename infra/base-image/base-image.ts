// Builds the offline base images (Docker Hub is unreachable here): the root filesystem of `rootfs.ts` packed as a
// tar stream and imported with `docker import`. `build` (node + npm + sh) replaces node:20-bookworm-slim in the
// Dockerfile's build stage, `runtime` (node only) its runtime stage. Rebuilt only when the host runtime changes.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { connectDocker, DockerError, followProgress, imageExists, splitImageRef, type Docker } from '../images/docker.js';
import { withFileLock } from '../images/file-lock.js';
import { packTar } from '../images/tar.js';
import { importChanges, rootfsEntries, type BaseVariant, type HostRuntime } from './rootfs.js';

const run = promisify(execFile);

/** Tags the tests, CI and `gsg build` use for the offline base images. */
export const BASE_IMAGE_TAGS: Record<BaseVariant, string> = {
  build: 'gsg-base/node:20-bookworm-slim',
  runtime: 'gsg-base/node:20-runtime',
};
/** Bumped when the root filesystem layout changes, so existing base images are rebuilt. */
const FORMAT_VERSION = 1;
const FINGERPRINT_LABEL = 'gsg.base.fingerprint';

export interface BaseImage {
  variant: BaseVariant;
  tag: string;
  id: string;
  sizeBytes: number;
  /** false when an image with the same fingerprint already existed. */
  built: boolean;
  seconds: number;
}

export interface BaseImageOptions {
  docker?: Docker;
  /** Node binary to copy (default: this process's). */
  node?: string;
  /** Strip node's symbol tables (default true when `strip` exists). */
  strip?: boolean;
  /** Rebuild even when an image with the same fingerprint exists. */
  force?: boolean;
  tags?: Partial<Record<BaseVariant, string>>;
  onLine?: (line: string) => void;
}

async function hasStrip(): Promise<boolean> {
  return run('strip', ['--version']).then(
    () => true,
    () => false,
  );
}

/** Describes this machine's Node runtime: the binary, its version, npm next to it, the CA bundle. */
export async function describeHost(node = process.execPath): Promise<HostRuntime> {
  const bin = await realpath(node);
  const nodeVersion = bin === (await realpath(process.execPath)) ? process.version : (await run(bin, ['--version'])).stdout.trim();
  const npmDir = join(dirname(dirname(bin)), 'lib', 'node_modules', 'npm');
  const caBundle = '/etc/ssl/certs/ca-certificates.crt';
  if (!existsSync(caBundle)) throw new DockerError(`base image: ${caBundle} is missing on this machine (install ca-certificates)`, { file: caBundle });
  return { node: bin, nodeVersion, npmDir, caBundle };
}

/** Identity of what a base image is built from: layout version, variant, node binary, npm version, stripping. */
async function fingerprint(host: HostRuntime, variant: BaseVariant, strip: boolean): Promise<string> {
  const st = await stat(host.node);
  const npmVersion = variant === 'build' ? (JSON.parse(await readFile(join(host.npmDir, 'package.json'), 'utf8')) as { version: string }).version : '';
  const input = JSON.stringify({ FORMAT_VERSION, variant, node: host.nodeVersion, size: st.size, mtime: st.mtimeMs, npmVersion, strip });
  return createHash('sha256').update(input).digest('hex').slice(0, 16);
}

async function importRootfs(docker: Docker, host: HostRuntime, variant: BaseVariant, tag: string, print: string, onLine: (l: string) => void): Promise<void> {
  const { repo, tag: version } = splitImageRef(tag);
  const labels = [
    `LABEL ${FINGERPRINT_LABEL}=${print}`,
    `LABEL gsg.base.variant=${variant}`,
    `LABEL org.opencontainers.image.title=${repo}`,
    `LABEL org.opencontainers.image.version=${host.nodeVersion}`,
    `LABEL org.opencontainers.image.description="Offline node ${host.nodeVersion} base (${variant}) built from the host runtime"`,
  ];
  const tar = packTar(await rootfsEntries(host, variant));
  const stream = await docker.importImage(tar, { repo, tag: version, changes: [...importChanges(host), ...labels] } as object);
  await followProgress(docker, stream, onLine);
}

/**
 * Builds (or reuses) one variant's base image. One import at a time on this machine: a second concurrent caller
 * waits and then reuses the image (re-importing would change its id and invalidate every build cached on it).
 */
export async function ensureBaseImage(variant: BaseVariant, opts: BaseImageOptions = {}): Promise<BaseImage> {
  return withFileLock(join(tmpdir(), 'gsg-base-image.lock'), () => ensureUnlocked(variant, opts), {
    onWait: (pid) => opts.onLine?.(`waiting for another base image build (pid ${pid}) to finish`),
  });
}

async function ensureUnlocked(variant: BaseVariant, opts: BaseImageOptions): Promise<BaseImage> {
  const docker = opts.docker ?? connectDocker();
  const tag = opts.tags?.[variant] ?? BASE_IMAGE_TAGS[variant];
  const onLine = opts.onLine ?? (() => {});
  const t0 = performance.now();
  const host = await describeHost(opts.node);
  const strip = opts.strip ?? (await hasStrip());
  const print = await fingerprint(host, variant, strip);
  const existing = await imageExists(docker, tag);
  if (existing && !opts.force && existing.Config?.Labels?.[FINGERPRINT_LABEL] === print) {
    return { variant, tag, id: existing.Id, sizeBytes: existing.Size, built: false, seconds: (performance.now() - t0) / 1000 };
  }
  const tmp = await mkdtemp(join(tmpdir(), 'gsg-base-'));
  try {
    if (strip) {
      host.strippedNode = join(tmp, 'node');
      await run('strip', ['--strip-all', '-o', host.strippedNode, host.node]);
    }
    onLine(`importing ${tag} (${variant}, node ${host.nodeVersion}${strip ? ', stripped' : ''})`);
    await importRootfs(docker, host, variant, tag, print, onLine);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const info = await imageExists(docker, tag);
  if (!info) throw new DockerError(`base image: docker import finished but ${tag} does not exist`, { image: tag });
  return { variant, tag, id: info.Id, sizeBytes: info.Size, built: true, seconds: (performance.now() - t0) / 1000 };
}

/** Both variants: `build` (node, npm, sh, coreutils) and `runtime` (node only). */
export async function ensureBaseImages(opts: BaseImageOptions = {}): Promise<Record<BaseVariant, BaseImage>> {
  return { build: await ensureBaseImage('build', opts), runtime: await ensureBaseImage('runtime', opts) };
}
