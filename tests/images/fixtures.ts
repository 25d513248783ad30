// Shared by the image and runtime tests: the bundled model version, the offline base images and the model-server
// image built once per test run (later suites reuse it through its build key), and a one-shot container runner.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { artifactSha256, readMetadata } from '../../models/artifact.js';
import { BASE_IMAGE_TAGS } from '../../infra/base-image/base-image.js';
import type { BuildRecord } from '../../infra/images/build-record.js';
import { buildModelImage } from '../../infra/images/build-image.js';
import { demuxLogs } from '../../infra/runtimes/docker-runtime.js';
import { testModelDir } from '../helpers/models.js';

export interface BundledModel {
  dir: string;
  name: string;
  version: string;
  sha256: string;
}

/** The newest bundled model version (GSG_TEST_MODEL_DIR overrides). */
export async function bundledModel(): Promise<BundledModel> {
  const dir = await testModelDir();
  const meta = await readMetadata(dir);
  return { dir, name: meta.model_name, version: meta.version, sha256: artifactSha256(meta) };
}

/** Build options every test uses: the offline base images (built on demand), records in a throwaway GSG_HOME. */
export async function testBuildOptions(docker: Docker) {
  return { docker, baseImage: BASE_IMAGE_TAGS.build, runtimeBaseImage: BASE_IMAGE_TAGS.runtime, home: await mkdtemp(join(tmpdir(), 'gsg-images-')) };
}

/**
 * The bundled version's image: built the first time, reused (same build key) afterwards. `options` are the build
 * options used (reuse them for further builds); the caller removes `options.home`.
 */
export async function ensureTestImage(docker: Docker): Promise<{ model: BundledModel; record: BuildRecord; options: Awaited<ReturnType<typeof testBuildOptions>> }> {
  const model = await bundledModel();
  const options = await testBuildOptions(docker);
  const record = await buildModelImage(model.dir, options);
  return { model, record, options };
}

/** Runs a command in a fresh container of `image` (removed afterwards): exit code and output. */
export async function runInImage(docker: Docker, image: string, cmd: string[], opts: { user?: string; entrypoint?: string[] } = {}): Promise<{ code: number; output: string }> {
  const container = await docker.createContainer({ Image: image, Cmd: cmd, User: opts.user ?? '', ...(opts.entrypoint ? { Entrypoint: opts.entrypoint } : {}), HostConfig: { NetworkMode: 'none' } });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    return { code: StatusCode, output: demuxLogs(logs) };
  } catch (err) {
    return { code: -1, output: (err as Error).message };
  } finally {
    await container.remove({ force: true }).catch(() => {});
  }
}
