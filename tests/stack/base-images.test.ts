// How the stack decides what it can use: an image is available when it is local or can be pulled (Grafana is
// started only then); base images come from the flags or GSG_BASE_IMAGE first.
import Docker from 'dockerode';
import { beforeAll, expect, it } from 'vitest';
import { BASE_IMAGE_TAGS, ensureBaseImage } from '../../infra/base-image/base-image.js';
import { imageAvailable, stackBaseImages } from '../../infra/stack/base-images.js';
import { describeDocker } from '../helpers/docker.js';

describeDocker('stack images', () => {
  const docker = new Docker();
  beforeAll(async () => {
    await ensureBaseImage('runtime', { docker });
  }, 300_000);

  it('counts a local image as available without pulling it', async () => {
    const lines: string[] = [];
    expect(await imageAvailable(docker, BASE_IMAGE_TAGS.runtime, (l) => lines.push(l))).toBe(true);
    expect(lines).toEqual([]);
  });

  it('reports an image that is neither local nor pullable as unavailable, saying why', async () => {
    const lines: string[] = [];
    expect(await imageAvailable(docker, 'gsg-test-nonexistent/never-published:0', (l) => lines.push(l))).toBe(false);
    expect(lines[0]).toBe('pulling gsg-test-nonexistent/never-published:0');
    expect(lines[1]).toMatch(/^cannot pull gsg-test-nonexistent\/never-published:0: /);
  }, 60_000);

  it('uses the base images given by flag or GSG_BASE_IMAGE without probing Docker Hub', async () => {
    const lines: string[] = [];
    expect(await stackBaseImages(docker, { env: { GSG_BASE_IMAGE: BASE_IMAGE_TAGS.build }, onLine: (l) => lines.push(l) })).toEqual({ baseImage: BASE_IMAGE_TAGS.build, runtimeBaseImage: BASE_IMAGE_TAGS.runtime });
    expect(await stackBaseImages(docker, { baseImage: 'my/base:1', runtimeBaseImage: 'my/runtime:1', env: {} })).toEqual({ baseImage: 'my/base:1', runtimeBaseImage: 'my/runtime:1' });
    expect(lines).toEqual([]);
  });
});
