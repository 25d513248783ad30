// The model-server image of the bundled version, built offline from the gsg-base images: labels, user, ports,
// healthcheck and size; the build record and `gsg build`'s output; the container turning healthy.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { SERVER_NODE_ARGS, SERVER_PROCESS_ENV } from '../../infra/runtimes/server-bundle.js';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/paths.js';
import { BASE_IMAGE_TAGS } from '../../infra/base-image/base-image.js';
import { BuildRecord, readBuildRecords } from '../../infra/images/build-record.js';
import { describeDocker } from '../helpers/docker.js';
import { ensureTestImage, runInImage, type BundledModel } from './fixtures.js';

const run = promisify(execFile);
const GSG = join(projectRoot(), 'bin', 'gsg.mjs');
const SIZE_LIMIT_BYTES = 200e6;

describeDocker('model-server image', () => {
  const docker = new Docker();
  let model: BundledModel;
  let record: BuildRecord;
  let home: string;
  let image: Docker.ImageInspectInfo;

  beforeAll(async () => {
    const built = await ensureTestImage(docker);
    ({ model, record } = built);
    home = built.options.home;
    image = await docker.getImage(record.image).inspect();
  }, 900_000);
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('is tagged gsg-model-server:<name>-<version>', () => {
    expect(record.image).toBe(`gsg-model-server:${model.name}-${model.version}`);
    expect(image.RepoTags).toContain(record.image);
  });

  it('carries the model labels of the baked-in version', () => {
    expect(image.Config.Labels).toMatchObject({ 'gsg.model.name': model.name, 'gsg.model.version': model.version, 'gsg.model.sha256': model.sha256 });
  });

  it('carries the OCI labels: title, description, version, created, revision, source, licenses, vendor, base', () => {
    const labels = image.Config.Labels ?? {};
    for (const key of ['title', 'description', 'version', 'created', 'revision', 'source', 'licenses', 'vendor', 'base.name']) {
      expect(labels, key).toHaveProperty(`org.opencontainers.image.${key}`);
    }
    expect(labels['org.opencontainers.image.version']).toBe(`${model.name}-${model.version}`);
    expect(Number.isNaN(Date.parse(labels['org.opencontainers.image.created']!))).toBe(false);
    expect(labels['org.opencontainers.image.revision']).toMatch(/^[0-9a-f]{40}(-dirty)?$|^unknown$/);
    expect(labels['org.opencontainers.image.base.name']).toBe(BASE_IMAGE_TAGS.runtime);
  });

  it('runs as the non-root node user, exposes 8080, stops with SIGTERM, starts node on the bundle', () => {
    expect(image.Config.User).toBe('node');
    expect(Object.keys(image.Config.ExposedPorts ?? {})).toEqual(['8080/tcp']);
    expect((image.Config as { StopSignal?: string }).StopSignal).toBe('SIGTERM');
    expect(image.Config.Entrypoint).toEqual(['node', ...SERVER_NODE_ARGS, '/app/server.mjs']);
    expect(image.Config.Env).toEqual(expect.arrayContaining(Object.entries(SERVER_PROCESS_ENV).map(([k, v]) => `${k}=${v}`)));
    expect(image.Config.Env).toEqual(expect.arrayContaining(['GSG_MODEL=/model', 'PORT=8080']));
  });

  it('has a HEALTHCHECK that needs nothing but node', () => {
    const test = (image.Config as { Healthcheck?: { Test?: string[] } }).Healthcheck?.Test ?? [];
    expect(test.slice(0, 2)).toEqual(['CMD', 'node']);
    expect(test.join(' ')).toContain('/ready');
  });

  it(`is smaller than ${SIZE_LIMIT_BYTES / 1e6} MB`, () => {
    console.log(`image ${record.image}: ${(image.Size / 1e6).toFixed(1)} MB`);
    expect(image.Size).toBeLessThan(SIZE_LIMIT_BYTES);
  });

  it('has no shell and no npm in the runtime stage', async () => {
    expect((await runInImage(docker, record.image, ['-c', 'true'], { entrypoint: ['sh'] })).code).not.toBe(0);
    const { code, output } = await runInImage(docker, record.image, ['-e', "console.log(require('node:fs').existsSync('/usr/local/lib/node_modules/npm'))"], { entrypoint: ['node'] });
    expect(code).toBe(0);
    expect(output.trim()).toBe('false');
  });

  it('records the build (image id, size, build time, base images) in $GSG_HOME/builds', async () => {
    const records = await readBuildRecords(home);
    expect(records).toEqual([expect.objectContaining({ image: record.image, imageId: image.Id, sizeBytes: image.Size, version: model.version, baseImage: BASE_IMAGE_TAGS.build, runtimeBaseImage: BASE_IMAGE_TAGS.runtime })]);
    expect(records[0]!.buildSeconds).toBeGreaterThan(0);
  });

  it('`gsg build --json` reuses the unchanged image, streams progress on stderr and prints the record', async () => {
    const { stdout, stderr } = await run(process.execPath, [GSG, 'build', model.dir, '--base-image', BASE_IMAGE_TAGS.build, '--json'], { env: { ...process.env, GSG_HOME: home }, timeout: 300_000 });
    const printed = BuildRecord.parse(JSON.parse(stdout));
    expect(printed).toMatchObject({ image: record.image, imageId: image.Id, reused: true });
    expect(stderr).toMatch(/up to date/);
  }, 300_000);

  it('`gsg build name@version` resolves the ref through the registry to the same image', async () => {
    const registry = await mkdtemp(join(tmpdir(), 'gsg-build-registry-'));
    try {
      const env = { ...process.env, GSG_HOME: home, GSG_REGISTRY: `file://${registry}` };
      await run(process.execPath, [GSG, 'registry', 'push', model.dir], { env, timeout: 60_000 });
      const { stdout } = await run(process.execPath, [GSG, 'build', `${model.name}@${model.version}`, '--base-image', BASE_IMAGE_TAGS.build, '--json'], { env, timeout: 300_000 });
      expect(BuildRecord.parse(JSON.parse(stdout))).toMatchObject({ image: record.image, imageId: image.Id, reused: true });
    } finally {
      await rm(registry, { recursive: true, force: true });
    }
  }, 300_000);

  it('turns healthy once the server is ready', async () => {
    const container = await docker.createContainer({ Image: record.image, HostConfig: { ReadonlyRootfs: true, CapDrop: ['ALL'] } });
    try {
      await container.start();
      // (A check may fail on a loaded machine before one passes: wait for healthy, not for the first verdict.)
      let status = 'starting';
      for (let i = 0; i < 240 && status !== 'healthy'; i++) {
        await sleep(250);
        status = (await container.inspect()).State.Health?.Status ?? 'none';
      }
      expect(status).toBe('healthy');
    } finally {
      await container.remove({ force: true });
    }
  }, 90_000);
});

describe('gsg build: bad input', () => {
  it('names a ref that is neither a directory nor a registry ref and exits 2', async () => {
    const err = (await run(process.execPath, [GSG, 'build', './no/such/dir'], { timeout: 60_000 }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^gsg build: .*no\/such\/dir/)]);
  }, 60_000);
});
