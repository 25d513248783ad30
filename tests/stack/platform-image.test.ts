// The platform image (gsg-platform) the compose stack runs: the full gsg CLI with the bundled model as a non-root
// user, labelled, node-only health check, onnxruntime-node cut to this platform's binary; it runs a whole platform
// (gsg up --runtime process inside: the pruned onnxruntime still loads the model), and is reused when unchanged.
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGE_TAGS } from '../../infra/base-image/base-image.js';
import { NODE_UID } from '../../infra/base-image/rootfs.js';
import { BUILD_KEY_LABEL } from '../../infra/images/build-image.js';
import { buildPlatformImage, PLATFORM_IMAGE_REPO, type PlatformImage } from '../../infra/platform-image/build-image.js';
import { listVersionDirs } from '../../models/artifact.js';
import { bundledModelsDir } from '../../lib/paths.js';
import { describeDocker } from '../helpers/docker.js';
import { runInImage } from '../images/fixtures.js';
import { demuxLogs } from '../../infra/runtimes/docker-runtime.js';
import { waitUntilReady } from '../../infra/runtimes/ready.js';

const BASES = { baseImage: BASE_IMAGE_TAGS.build, runtimeBaseImage: BASE_IMAGE_TAGS.runtime };

describeDocker('gsg-platform image', () => {
  const docker = new Docker();
  let image: PlatformImage;
  let info: Docker.ImageInspectInfo;
  const node = (script: string) => runInImage(docker, image.id, ['-e', script], { entrypoint: ['node'] });

  beforeAll(async () => {
    image = await buildPlatformImage({ docker, ...BASES });
    info = await docker.getImage(image.id).inspect();
    console.log(`gsg-platform: ${(image.sizeBytes / 1e6).toFixed(1)} MB, ${image.reused ? 'reused' : `built in ${image.seconds.toFixed(1)} s`}`);
  }, 900_000);

  it('is tagged with the package version and latest', () => {
    expect(image.tags).toEqual([expect.stringMatching(new RegExp(`^${PLATFORM_IMAGE_REPO}:\\d+\\.\\d+\\.\\d+`)), `${PLATFORM_IMAGE_REPO}:latest`]);
    expect(info.RepoTags).toEqual(expect.arrayContaining(image.tags));
  });

  it('runs `gsg up --runtime docker` as the node user, with a node-only health check on /ready', () => {
    expect(info.Config.User).toBe('node');
    expect(info.Config.Entrypoint).toEqual(['node', 'dist/infra/cli/main.js']);
    expect(info.Config.Cmd).toEqual(['up', '--runtime', 'docker']);
    expect(info.Config.WorkingDir).toBe('/app');
    const hc = (info.Config as { Healthcheck?: { Test?: string[] } }).Healthcheck?.Test ?? [];
    expect(hc.slice(0, 2)).toEqual(['CMD', 'node']);
    expect(hc.join(' ')).toContain('/ready');
  });

  it('carries OCI labels, its build key and the bundled model versions', async () => {
    expect(info.Config.Labels).toMatchObject({
      'org.opencontainers.image.title': 'gsg-platform',
      'org.opencontainers.image.version': expect.stringMatching(/^\d+\.\d+\.\d+/),
      'org.opencontainers.image.revision': expect.stringMatching(/^([0-9a-f]{40}(-dirty)?|unknown)$/),
      'org.opencontainers.image.base.name': BASE_IMAGE_TAGS.runtime,
      'gsg.platform.bundled-models': (await listVersionDirs(bundledModelsDir())).join(' '),
      [BUILD_KEY_LABEL]: image.buildKey,
    });
  });

  it("keeps only this platform's onnxruntime-node binary", async () => {
    const r = await node("const fs=require('fs');const b='/app/node_modules/onnxruntime-node/bin';console.log(JSON.stringify(fs.readdirSync(b).flatMap(n=>fs.readdirSync(b+'/'+n).flatMap(os=>fs.readdirSync(b+'/'+n+'/'+os).map(a=>os+'/'+a)))))");
    expect(r.code, r.output).toBe(0);
    expect(JSON.parse(r.output)).toEqual([`${process.platform}/${process.arch}`]);
  });

  it('has $GSG_HOME owned by the node user and a world-writable sticky targets directory for Prometheus', async () => {
    const r = await node("const fs=require('fs');console.log(JSON.stringify(['/var/lib/gsg','/etc/prometheus/targets'].map(p=>{const s=fs.statSync(p);return [s.uid,(s.mode&0o7777).toString(8)]})),process.env.GSG_HOME)");
    expect(r.output.trim()).toBe(`${JSON.stringify([[NODE_UID, '755'], [0, '1777']])} /var/lib/gsg`);
  });

  it('prints the gsg help (the CLI starts from dist/ without compiling anything)', async () => {
    const r = await runInImage(docker, image.id, ['--help']);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/\bup\b.*run the platform/);
  });

  describe('running the platform with the process runtime inside', () => {
    let container: Docker.Container;
    let url: string;
    beforeAll(async () => {
      container = await docker.createContainer({
        Image: image.id,
        Cmd: ['up', '--runtime', 'process'],
        Env: ['GSG_ADMIN_TOKEN=platform-image-test-token-0123'],
        Labels: { 'gsg.test': 'platform-image' },
        HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, ReadonlyRootfs: true, Tmpfs: { '/tmp': '', '/var/lib/gsg': `uid=${NODE_UID},gid=${NODE_UID}` } },
      });
      await container.start();
      const port = (await container.inspect()).NetworkSettings.Ports['8080/tcp']![0]!.HostPort;
      url = `http://127.0.0.1:${port}`;
      const died = async () => ((await container.inspect()).State.Running ? undefined : 'the platform container stopped');
      await waitUntilReady(url, { timeoutMs: 60_000, intervalMs: 250, died }).catch(async (err: Error) => {
        throw new Error(`not ready (${err.message}): ${demuxLogs((await container.logs({ stdout: true, stderr: true, tail: 30, follow: false })) as unknown as Buffer)}`);
      });
    }, 90_000);
    afterAll(async () => {
      await container?.remove({ force: true, v: true });
    });

    it('serves predictions of the bundled model through its router', async () => {
      const res = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ texts: ['el vestuario está sucio'] }) });
      expect(res.status).toBe(200);
      const [prediction] = (await res.json()) as { sentiment: string; model_version: string }[];
      expect(prediction!.model_version).toBe((await listVersionDirs(bundledModelsDir())).at(-1));
    });
  });

  it('is reused, not rebuilt, while sources, models and base images are unchanged', async () => {
    const again = await buildPlatformImage({ docker, ...BASES });
    expect(again.reused).toBe(true);
    expect(again.id).toBe(image.id);
  }, 600_000);
});
