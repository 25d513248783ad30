// The Docker engine connection (dockerode) and its JSON-lines progress streams (build, import), with errors typed.
import Docker from 'dockerode';
import { GsgError } from '../../lib/errors.js';

export type { Docker };

/** A failure reported by the Docker engine (build step failed, engine unreachable, import refused). */
export class DockerError extends GsgError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super(message, { code: 'docker', context, cause });
  }
}

/** dockerode client for `DOCKER_HOST` (or the local socket). */
export function connectDocker(): Docker {
  return new Docker();
}

/** One decoded progress message of a build or import stream. */
export interface ProgressMessage {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/**
 * Reads a progress stream to its end, calling `onLine` with each human-readable line (build step output, status);
 * rejects with a DockerError carrying the engine's message when the stream reports an error.
 */
export async function followProgress(docker: Docker, stream: NodeJS.ReadableStream, onLine: (line: string) => void = () => {}): Promise<ProgressMessage[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: ProgressMessage[]) => {
        if (err) return reject(new DockerError(err.message, {}, err));
        const failed = output.find((m) => m.error);
        if (failed) return reject(new DockerError(failed.errorDetail?.message ?? failed.error ?? 'docker reported an error'));
        resolve(output);
      },
      (m: ProgressMessage) => {
        const text = m.stream ?? (m.status ? [m.status, m.progress].filter(Boolean).join(' ') : undefined);
        if (text) for (const line of text.split('\n')) if (line.trim()) onLine(line.trimEnd());
      },
    );
  });
}

export async function imageExists(docker: Docker, ref: string): Promise<Docker.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(ref).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw new DockerError(`docker: cannot inspect image ${ref}: ${(err as Error).message}`, { image: ref }, err);
  }
}

/** `repo[:tag]` → `{repo, tag}` (tag default "latest"; a registry port's ":" is not a tag separator). */
export function splitImageRef(ref: string): { repo: string; tag: string } {
  const i = ref.lastIndexOf(':');
  return i > ref.lastIndexOf('/') ? { repo: ref.slice(0, i), tag: ref.slice(i + 1) } : { repo: ref, tag: 'latest' };
}
