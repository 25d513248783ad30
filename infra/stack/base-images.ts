// Which base images the stack's images are built on: flags or GSG_BASE_IMAGE / GSG_RUNTIME_BASE_IMAGE when given,
// else Docker Hub's node:20-bookworm-slim when it is present or can be pulled, else the offline gsg-base images
// (built from this machine's Node runtime, for machines that cannot reach Docker Hub). Also: "is this image here,
// or can it be pulled?" for images the stack does not build (Grafana).
import { BASE_IMAGE_TAGS } from '../base-image/base-image.js';
import { OFFICIAL_BASE_IMAGE, resolveBaseImages } from '../images/build-image.js';
import { followProgress, imageExists, type Docker } from '../images/docker.js';

export interface StackBaseImages {
  baseImage: string;
  runtimeBaseImage: string;
}

/** True when `image` exists locally, or after a successful pull; false when the pull fails (registry unreachable). */
export async function imageAvailable(docker: Docker, image: string, onLine: (line: string) => void = () => {}): Promise<boolean> {
  if (await imageExists(docker, image)) return true;
  try {
    onLine(`pulling ${image}`);
    await followProgress(docker, await docker.pull(image));
    return (await imageExists(docker, image)) !== undefined;
  } catch (err) {
    onLine(`cannot pull ${image}: ${(err as Error).message.split('\n')[0]}`);
    return false;
  }
}

export async function stackBaseImages(
  docker: Docker,
  opts: { baseImage?: string; runtimeBaseImage?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {},
): Promise<StackBaseImages> {
  const env = opts.env ?? process.env;
  if (opts.baseImage || env.GSG_BASE_IMAGE) return resolveBaseImages({ baseImage: opts.baseImage, runtimeBaseImage: opts.runtimeBaseImage, env });
  if (await imageAvailable(docker, OFFICIAL_BASE_IMAGE, opts.onLine)) return resolveBaseImages({ baseImage: OFFICIAL_BASE_IMAGE, runtimeBaseImage: opts.runtimeBaseImage, env });
  opts.onLine?.(`using the offline base images ${BASE_IMAGE_TAGS.build} and ${BASE_IMAGE_TAGS.runtime} (built from this machine's Node runtime)`);
  return resolveBaseImages({ baseImage: BASE_IMAGE_TAGS.build, runtimeBaseImage: opts.runtimeBaseImage, env });
}
