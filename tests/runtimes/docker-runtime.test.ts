// DockerRuntime: the shared runtime behaviour with real containers of the bundled version's image, plus what only
// it does: the locked-down container (read-only root, no capabilities, limits, labels), the user network and its
// DNS name, finding containers by label after a restart, and building a missing image (only the model layer new).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log.js';
import { BASE_IMAGE_TAGS } from '../../infra/base-image/base-image.js';
import { imageRef } from '../../infra/images/build-image.js';
import { DockerRuntime, type DockerRuntimeOptions } from '../../infra/runtimes/docker-runtime.js';
import type { Instance } from '../../infra/runtime.js';
import { describeDocker } from '../helpers/docker.js';
import { copyVersionAs } from '../helpers/models.js';
import { ensureTestImage, type testBuildOptions, type BundledModel } from '../images/fixtures.js';
import { get, runtimeBehaviour } from './runtime-behaviour.js';

const quiet = createLogger({ name: 'docker-runtime-test', level: 'silent' });
const docker = new Docker();
/** Unique per test process: containers, network and labels never collide with a real platform or a parallel run. */
const owner = `gsg-test-${process.pid}`;
let model: BundledModel;
let build: Awaited<ReturnType<typeof testBuildOptions>>;

const newRuntime = (opts: DockerRuntimeOptions = {}) => new DockerRuntime({ docker, owner, network: owner, graceMs: 10_000, build, logger: quiet, ...opts });
const specOf = (m: BundledModel) => ({ modelName: m.name, version: m.version, modelDir: m.dir });

describeDocker('DockerRuntime', () => {
  beforeAll(async () => {
    ({ model, options: build } = await ensureTestImage(docker));
  }, 900_000);
  afterAll(async () => {
    for (const c of await docker.listContainers({ all: true, filters: { label: [`gsg.managed-by=${owner}`] } })) await docker.getContainer(c.Id).remove({ force: true });
    await docker.getNetwork(owner).remove().catch(() => {});
    if (build) await rm(build.home, { recursive: true, force: true });
  });

  describe('runtime behaviour', () => {
    runtimeBehaviour(async () => ({ runtime: newRuntime(), spec: specOf(model) }));
  });

  describe('containers', () => {
    let rt: DockerRuntime;
    let blue: Instance;
    let info: Docker.ContainerInspectInfo;

    beforeAll(async () => {
      rt = newRuntime();
      blue = await rt.start({ ...specOf(model), color: 'blue' });
      info = await docker.getContainer(blue.id).inspect();
    });
    afterAll(() => rt?.close());

    it('runs locked down: read-only root, all capabilities dropped, no-new-privileges, memory and CPU limits, non-root', () => {
      expect(info.HostConfig).toMatchObject({ ReadonlyRootfs: true, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], Memory: 512 * 1024 * 1024, NanoCpus: 1e9 });
      expect(info.HostConfig.Tmpfs).toHaveProperty('/tmp');
      expect(info.Config.User).toBe('node');
    });

    it('labels the container with color, model name, version and owner', () => {
      expect(info.Config.Labels).toMatchObject({ 'gsg.color': 'blue', 'gsg.model.name': model.name, 'gsg.model.version': model.version, 'gsg.managed-by': owner });
    });

    it('publishes 8080 on 127.0.0.1 only, at the port of the reported URL', () => {
      const binding = info.NetworkSettings.Ports['8080/tcp']?.[0];
      expect(binding?.HostIp).toBe('127.0.0.1');
      expect(blue.url).toBe(`http://127.0.0.1:${binding?.HostPort}`);
    });

    it('has a read-only root filesystem (the app, the model) and a writable /tmp', async () => {
      const exec = await docker.getContainer(blue.id).exec({
        Cmd: ['node', '-e', "const fs = require('node:fs'); const w = (p) => { try { fs.writeFileSync(p, 'x'); return 'written'; } catch (e) { return e.code; } }; console.log(JSON.stringify({ app: w('/app/x'), model: w('/model/x'), root: w('/x'), tmp: w('/tmp/x') }))"],
        AttachStdout: true,
        AttachStderr: true,
      });
      const stream = await exec.start({});
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      const out = Buffer.concat(chunks).toString('utf8');
      expect(JSON.parse(out.slice(out.indexOf('{')))).toEqual({ app: 'EROFS', model: 'EROFS', root: 'EROFS', tmp: 'written' });
    });

    it('joins the user network, where its container name is a DNS name that answers', async () => {
      const name = info.Name.replace(/^\//, '');
      expect(Object.keys(info.NetworkSettings.Networks)).toEqual([owner]);
      const container = await docker.createContainer({
        Image: BASE_IMAGE_TAGS.runtime,
        Cmd: ['node', '-e', `fetch('http://${name}:8080/ready').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(2))`],
        HostConfig: { NetworkMode: owner },
      });
      try {
        await container.start();
        expect(((await container.wait()) as { StatusCode: number }).StatusCode).toBe(0);
      } finally {
        await container.remove({ force: true });
      }
    });

    it('a restarted owner finds the container by its labels, and reports the network URL when asked to', async () => {
      const name = info.Name.replace(/^\//, '');
      const published = await newRuntime().list();
      expect(published).toEqual([expect.objectContaining({ id: blue.id, color: 'blue', version: model.version, url: blue.url })]);
      const network = await newRuntime({ urlMode: 'network' }).list();
      expect(network).toEqual([expect.objectContaining({ id: blue.id, url: `http://${name}:8080`, metricsTarget: `${name}:8080` })]);
    });
  });

  describe('missing images', () => {
    it('builds the image of a version that has none before starting it; only the model layer is new', async () => {
      const tmp = await mkdtemp(join(tmpdir(), 'gsg-docker-runtime-'));
      const version = `${model.version}-rt${process.pid}`;
      const dir = await copyVersionAs(model.dir, join(tmp, version), version);
      const rt = newRuntime();
      try {
        const inst = await rt.start({ modelName: model.name, version, modelDir: dir, color: 'green' });
        expect((await get(`${inst.url}/model/info`)).body).toContain(version);
        const layers = async (ref: string) => (await docker.getImage(ref).inspect()).RootFS.Layers ?? [];
        const [base, next] = [await layers(imageRef(model.name, model.version)), await layers(imageRef(model.name, version))];
        expect(next.length).toBe(base.length);
        expect(next.slice(0, -1)).toEqual(base.slice(0, -1));
        expect(next.at(-1)).not.toBe(base.at(-1));
      } finally {
        await rt.close();
        await docker.getImage(imageRef(model.name, version)).remove({ force: true }).catch(() => {});
        await rm(tmp, { recursive: true, force: true });
      }
    }, 300_000);
  });
});
