// The offline base images built from this machine's Node runtime: what each variant contains (and does not), that
// they behave like node:20-bookworm-slim for what the Dockerfile uses, and that an unchanged host reuses them.
import Docker from 'dockerode';
import { beforeAll, expect, it } from 'vitest';
import { BASE_IMAGE_TAGS, ensureBaseImage, ensureBaseImages, type BaseImage } from '../../infra/base-image/base-image.js';
import type { BaseVariant } from '../../infra/base-image/rootfs.js';
import { describeDocker } from '../helpers/docker.js';
import { runInImage } from './fixtures.js';

describeDocker('offline base images', () => {
  const docker = new Docker();
  let images: Record<BaseVariant, BaseImage>;

  beforeAll(async () => {
    images = await ensureBaseImages({ docker });
  });

  it('runs the same Node version as this machine, with ICU and OpenSSL working', async () => {
    const { code, output } = await runInImage(docker, BASE_IMAGE_TAGS.runtime, ['node', '-p', "process.version + ' ' + new Intl.DateTimeFormat('es-ES', { month: 'long', timeZone: 'Europe/Madrid' }).format(new Date(Date.UTC(2026, 10, 25))) + ' ' + require('node:crypto').createHash('sha256').update('x').digest('hex').slice(0, 8)"]);
    expect(code).toBe(0);
    expect(output.trim()).toBe(`${process.version} noviembre 2d711642`);
  });

  it('has a node user with uid 1000 and a writable home and /tmp', async () => {
    const { code, output } = await runInImage(docker, BASE_IMAGE_TAGS.runtime, ['node', '-e', "const os = require('node:os'); const fs = require('node:fs'); fs.writeFileSync('/tmp/x', '1'); fs.writeFileSync(os.homedir() + '/x', '1'); console.log(JSON.stringify(os.userInfo()))"], { user: 'node' });
    expect(code).toBe(0);
    expect(JSON.parse(output)).toMatchObject({ uid: 1000, gid: 1000, username: 'node', homedir: '/home/node' });
  });

  it('runtime variant: node only, no shell to exec into', async () => {
    const { code, output } = await runInImage(docker, BASE_IMAGE_TAGS.runtime, ['sh', '-c', 'true']);
    expect(code).not.toBe(0);
    expect(output).toMatch(/not found|no such file/i);
  });

  it('build variant: sh, coreutils and npm configured with the CA bundle', async () => {
    const { code, output } = await runInImage(docker, BASE_IMAGE_TAGS.build, ['sh', '-c', 'mkdir -p /tmp/a && cp /etc/passwd /tmp/a/ && ls /tmp/a && npm --version && npm config get cafile']);
    expect(code, output).toBe(0);
    expect(output.split('\n').map((l) => l.trim())).toEqual(expect.arrayContaining(['passwd', expect.stringMatching(/^\d+\.\d+\.\d+$/), '/etc/ssl/certs/ca-certificates.crt']));
  });

  it('keeps the runtime variant smaller than the build variant and well under 120 MB', () => {
    expect(images.runtime.sizeBytes).toBeLessThan(images.build.sizeBytes);
    expect(images.runtime.sizeBytes).toBeLessThan(120e6);
  });

  it('reuses an existing base image when the host runtime did not change', async () => {
    const again = await ensureBaseImage('runtime', { docker });
    expect(again.built).toBe(false);
    expect(again.id).toBe(images.runtime.id);
  });
});
