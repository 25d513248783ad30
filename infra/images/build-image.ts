// Builds gsg-model-server:<name>-<version> for one model version with dockerode (classic builder, host network for
// `npm ci`), streams the build's progress lines, records id/size/build time in $GSG_HOME/builds, and reuses an
// existing image whose build key (context digest + base image ids) matches instead of rebuilding it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../lib/paths.js';
import { artifactSha256, loadModelArtifact } from '../../models/artifact.js';
import { BASE_IMAGE_TAGS, ensureBaseImages } from '../base-image/base-image.js';
import { readBuildRecords, writeBuildRecord, type BuildRecord } from './build-record.js';
import { contextBytes, DOCKERFILE, modelServerContext, type BuildContext } from './context.js';
import { withFileLock } from './file-lock.js';
import { connectDocker, DockerError, followProgress, imageExists, type Docker } from './docker.js';
import { packTar } from './tar.js';

const run = promisify(execFile);

export const IMAGE_REPO = 'gsg-model-server';
export const OFFICIAL_BASE_IMAGE = 'node:20-bookworm-slim';
/** Label carrying the build key: an image with the key a build would have is reused instead of rebuilt. */
export const BUILD_KEY_LABEL = 'gsg.build.key';

export function imageRef(modelName: string, version: string): string {
  return `${IMAGE_REPO}:${modelName}-${version}`;
}

export interface BuildImageOptions {
  docker?: Docker;
  /** Build-stage base (npm + node); env GSG_BASE_IMAGE, default node:20-bookworm-slim. */
  baseImage?: string;
  /** Runtime-stage base (node); env GSG_RUNTIME_BASE_IMAGE, default the runtime variant for gsg-base images, else baseImage. */
  runtimeBaseImage?: string;
  /** Build without the layer cache (and never reuse an existing image). */
  noCache?: boolean;
  /** Reuse an existing image with the same build key (default true). */
  reuse?: boolean;
  /** Where build records go ($GSG_HOME). */
  home?: string;
  /** Repository root holding the Dockerfile and sources (default: this project's). */
  root?: string;
  env?: NodeJS.ProcessEnv;
  onLine?: (line: string) => void;
}

/** Which base images a build uses: flags, then GSG_BASE_IMAGE / GSG_RUNTIME_BASE_IMAGE, then the official image. */
export function resolveBaseImages(opts: Pick<BuildImageOptions, 'baseImage' | 'runtimeBaseImage' | 'env'> = {}): { baseImage: string; runtimeBaseImage: string } {
  const env = opts.env ?? process.env;
  const baseImage = opts.baseImage ?? env.GSG_BASE_IMAGE ?? OFFICIAL_BASE_IMAGE;
  const runtimeBaseImage = opts.runtimeBaseImage ?? env.GSG_RUNTIME_BASE_IMAGE ?? (baseImage === BASE_IMAGE_TAGS.build ? BASE_IMAGE_TAGS.runtime : baseImage);
  return { baseImage, runtimeBaseImage };
}

/** The git commit of `root` (suffix -dirty when any of `files` differs from it), or "unknown" outside a checkout. */
export async function gitRevision(root: string, files: string[]): Promise<string> {
  try {
    const head = (await run('git', ['-C', root, 'rev-parse', 'HEAD'])).stdout.trim();
    const dirty = (await run('git', ['-C', root, 'status', '--porcelain', '--', ...files])).stdout.trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** License and source URL for the OCI labels, from package.json (else the git remote). */
export async function packageInfo(root: string): Promise<{ license: string; source: string }> {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { license?: string; repository?: string | { url?: string } };
  let source = typeof pkg.repository === 'string' ? pkg.repository : (pkg.repository?.url ?? '');
  if (!source) source = await run('git', ['-C', root, 'remote', 'get-url', 'origin']).then((r) => r.stdout.trim(), () => '');
  return { license: pkg.license ?? 'UNLICENSED', source };
}

/** Base images must exist locally: gsg-base ones are built offline on demand, others must be pullable. */
export async function ensureBases(docker: Docker, images: string[], onLine: (l: string) => void): Promise<string[]> {
  if (images.some((i) => Object.values(BASE_IMAGE_TAGS).includes(i))) await ensureBaseImages({ docker, onLine });
  return Promise.all(images.map(async (i) => (await imageExists(docker, i))?.Id ?? i));
}

/** sha256 over the context digest and the base image ids: changes with any source, model or base image. */
export function buildKeyOf(contextDigest: string, baseImageIds: string[]): string {
  return createHash('sha256').update([contextDigest, ...baseImageIds].join('\n')).digest('hex');
}

/** Build args every gsg image takes: base images, OCI created/revision/source/licenses, context digest. */
export async function commonBuildArgs(root: string, context: BuildContext, bases: { baseImage: string; runtimeBaseImage: string }): Promise<Record<string, string>> {
  const { license, source } = await packageInfo(root);
  return {
    BASE_IMAGE: bases.baseImage,
    RUNTIME_BASE_IMAGE: bases.runtimeBaseImage,
    CREATED: new Date().toISOString(),
    REVISION: await gitRevision(root, context.sourceFiles),
    SOURCE: source,
    LICENSES: license,
    CONTEXT_DIGEST: context.digest,
  };
}

export interface DockerBuildSpec {
  context: BuildContext;
  tag: string;
  /** Dockerfile path inside the context. */
  dockerfile: string;
  buildargs: Record<string, string>;
  buildKey: string;
  noCache?: boolean;
  onLine: (line: string) => void;
}

/**
 * One classic-builder build of a context (host network, so `npm ci` reaches the registry), labelled with its build
 * key, progress lines streamed to onLine. Returns the built image; DockerError naming the tag when a step fails.
 */
export async function dockerBuild(docker: Docker, spec: DockerBuildSpec): Promise<Docker.ImageInspectInfo> {
  const { tag } = spec;
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.buildImage(packTar(spec.context.entries), {
      t: tag,
      dockerfile: spec.dockerfile,
      buildargs: spec.buildargs,
      labels: { [BUILD_KEY_LABEL]: spec.buildKey },
      networkmode: 'host',
      nocache: spec.noCache ?? false,
      rm: true,
      forcerm: true,
      version: '1',
    });
  } catch (err) {
    throw new DockerError(`docker build ${tag}: ${(err as Error).message}`, { image: tag }, err);
  }
  await followProgress(docker, stream, spec.onLine).catch((err: unknown) => {
    throw new DockerError(`docker build ${tag} failed: ${(err as Error).message}`, { image: tag }, err);
  });
  const info = await imageExists(docker, tag);
  if (!info) throw new DockerError(`docker build ${tag}: finished but the image does not exist`, { image: tag });
  return info;
}

/**
 * Builds (or reuses) the image of the model version in `modelDir` (a verified artifact directory) and writes its
 * build record. Throws ModelLoadError for a corrupt artifact, DockerError for a failed build.
 */
export async function buildModelImage(modelDir: string, opts: BuildImageOptions = {}): Promise<BuildRecord> {
  const onLine = opts.onLine ?? (() => {});
  // One build at a time on this machine (base images are shared; a second build of the same version then reuses it).
  return withFileLock(join(tmpdir(), 'gsg-image-build.lock'), () => buildUnlocked(modelDir, opts, onLine), {
    onWait: (pid) => onLine(`waiting for another image build (pid ${pid}) to finish`),
  });
}

async function buildUnlocked(modelDir: string, opts: BuildImageOptions, onLine: (line: string) => void): Promise<BuildRecord> {
  const t0 = performance.now();
  const docker = opts.docker ?? connectDocker();
  const root = opts.root ?? projectRoot();
  const { metadata } = await loadModelArtifact(modelDir);
  const { baseImage, runtimeBaseImage } = resolveBaseImages(opts);
  const tag = imageRef(metadata.model_name, metadata.version);
  const baseIds = await ensureBases(docker, [baseImage, runtimeBaseImage], onLine);
  const context = await modelServerContext(root, modelDir);
  const buildKey = buildKeyOf(context.digest, baseIds);

  let info = await imageExists(docker, tag);
  const reuse = !!info && (opts.reuse ?? true) && !opts.noCache && info.Config?.Labels?.[BUILD_KEY_LABEL] === buildKey;
  if (reuse) onLine(`${tag} is up to date (build key ${buildKey.slice(0, 12)})`);
  else {
    const buildargs: Record<string, string> = {
      ...(await commonBuildArgs(root, context, { baseImage, runtimeBaseImage })),
      MODEL_NAME: metadata.model_name,
      MODEL_VERSION: metadata.version,
      MODEL_SHA256: artifactSha256(metadata),
    };
    const files = context.entries.filter((e) => e.type === 'file').length;
    onLine(`building ${tag} from ${modelDir} (base ${baseImage}, runtime base ${runtimeBaseImage}; context ${files} files, ${((await contextBytes(context.entries)) / 1e6).toFixed(1)} MB)`);
    info = await dockerBuild(docker, { context, tag, dockerfile: DOCKERFILE, buildargs, buildKey, noCache: opts.noCache, onLine });
  }
  if (!info) throw new DockerError(`${tag}: image missing`, { image: tag });
  const record: BuildRecord = {
    image: tag,
    imageId: info.Id,
    modelName: metadata.model_name,
    version: metadata.version,
    sha256: artifactSha256(metadata),
    sizeBytes: info.Size,
    buildSeconds: +((performance.now() - t0) / 1000).toFixed(3),
    baseImage,
    runtimeBaseImage,
    createdAt: info.Config?.Labels?.['org.opencontainers.image.created'] ?? info.Created,
    revision: info.Config?.Labels?.['org.opencontainers.image.revision'] ?? 'unknown',
    buildKey,
    reused: reuse,
  };
  // A reused image keeps the record of the build that made it (its build time), unless none exists yet.
  await writeBuildRecord(reuse ? await previousRecordOr(record, opts.home) : record, opts.home);
  return record;
}

async function previousRecordOr(record: BuildRecord, home?: string): Promise<BuildRecord> {
  const prev = (await readBuildRecords(home)).find((r) => r.image === record.image && r.imageId === record.imageId);
  return prev ?? record;
}
