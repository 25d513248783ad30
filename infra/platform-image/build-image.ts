// Builds the platform image gsg-platform:<package version> (+ :latest) with dockerode, like the model-server image
// (classic builder, host network for `npm ci`, the same offline base images), and reuses an existing image whose
// build key (context digest + base image ids) matches instead of rebuilding it.
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledModelsDir, projectRoot } from '../../lib/paths.js';
import { listVersionDirs } from '../../models/artifact.js';
import { BUILD_KEY_LABEL, buildKeyOf, commonBuildArgs, dockerBuild, ensureBases, resolveBaseImages, type BuildImageOptions } from '../images/build-image.js';
import { connectDocker, DockerError, imageExists, splitImageRef } from '../images/docker.js';
import { withFileLock } from '../images/file-lock.js';
import { PLATFORM_DOCKERFILE, platformContext } from './context.js';

export const PLATFORM_IMAGE_REPO = 'gsg-platform';

export interface PlatformImage {
  /** The tags it carries: gsg-platform:<package version> and gsg-platform:latest. */
  tags: string[];
  id: string;
  sizeBytes: number;
  baseImage: string;
  runtimeBaseImage: string;
  buildKey: string;
  /** True when an existing image with the same build key was reused (no build ran). */
  reused: boolean;
  seconds: number;
}

export type PlatformImageOptions = Omit<BuildImageOptions, 'home'> & {
  /** Default: gsg-platform:<package.json version> and gsg-platform:latest. */
  tags?: string[];
  /** Directory of the bundled model versions baked into the image (default: the project's). */
  modelsDir?: string;
};

/** The image's tags for the project at `root`. */
export async function platformImageTags(root = projectRoot()): Promise<string[]> {
  const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
  return [`${PLATFORM_IMAGE_REPO}:${version}`, `${PLATFORM_IMAGE_REPO}:latest`];
}

/** Builds (or reuses) the platform image and gives it every tag. Throws DockerError for a failed build. */
export async function buildPlatformImage(opts: PlatformImageOptions = {}): Promise<PlatformImage> {
  const onLine = opts.onLine ?? (() => {});
  // The same machine-wide lock as the model-server builds: one image build at a time (2 cores, shared base images).
  return withFileLock(join(tmpdir(), 'gsg-image-build.lock'), () => buildUnlocked(opts, onLine), {
    onWait: (pid) => onLine(`waiting for another image build (pid ${pid}) to finish`),
  });
}

async function buildUnlocked(opts: PlatformImageOptions, onLine: (line: string) => void): Promise<PlatformImage> {
  const t0 = performance.now();
  const docker = opts.docker ?? connectDocker();
  const root = opts.root ?? projectRoot();
  const modelsDir = opts.modelsDir ?? bundledModelsDir();
  const tags = opts.tags ?? (await platformImageTags(root));
  const { baseImage, runtimeBaseImage } = resolveBaseImages(opts);
  const baseIds = await ensureBases(docker, [baseImage, runtimeBaseImage], onLine);
  const context = await platformContext(root, modelsDir);
  const buildKey = buildKeyOf(context.digest, baseIds);

  let info = await imageExists(docker, tags[0]!);
  const reused = !!info && (opts.reuse ?? true) && !opts.noCache && info.Config?.Labels?.[BUILD_KEY_LABEL] === buildKey;
  if (reused) onLine(`${tags[0]} is up to date (build key ${buildKey.slice(0, 12)})`);
  else {
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    const buildargs: Record<string, string> = {
      ...(await commonBuildArgs(root, context, { baseImage, runtimeBaseImage })),
      VERSION: version,
      BUNDLED_MODELS: (await listVersionDirs(modelsDir)).join(' '),
    };
    onLine(`building ${tags[0]} (base ${baseImage}, runtime base ${runtimeBaseImage})`);
    info = await dockerBuild(docker, { context, tag: tags[0]!, dockerfile: PLATFORM_DOCKERFILE, buildargs, buildKey, noCache: opts.noCache, onLine });
  }
  if (!info) throw new DockerError(`${tags[0]}: image missing`, { image: tags[0] });
  for (const t of tags.slice(1)) await docker.getImage(info.Id).tag(splitImageRef(t));
  return { tags, id: info.Id, sizeBytes: info.Size, baseImage, runtimeBaseImage, buildKey, reused, seconds: +((performance.now() - t0) / 1000).toFixed(3) };
}
