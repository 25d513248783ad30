// `npm run platform-image [-- --no-cache] [--base-image IMG] [--runtime-base-image IMG]`: builds gsg-platform for the
// compose stack (reused when nothing changed). Base images as for `gsg build`: flags, GSG_BASE_IMAGE /
// GSG_RUNTIME_BASE_IMAGE, else the offline gsg-base images when Docker Hub's node image is not available.
import { parseArgs } from 'node:util';
import { errorMessage } from '../../lib/errors.js';
import { connectDocker } from '../images/docker.js';
import { stackBaseImages } from '../stack/base-images.js';
import { buildPlatformImage } from './build-image.js';

try {
  const { values } = parseArgs({ options: { 'no-cache': { type: 'boolean', default: false }, 'base-image': { type: 'string' }, 'runtime-base-image': { type: 'string' } } });
  const docker = connectDocker();
  const bases = await stackBaseImages(docker, { baseImage: values['base-image'], runtimeBaseImage: values['runtime-base-image'], onLine: (l) => console.log(l) });
  const img = await buildPlatformImage({ docker, ...bases, noCache: values['no-cache'], onLine: (l) => console.log(l) });
  console.log(`${img.tags.join(', ')}  ${img.id.slice(7, 19)}  ${(img.sizeBytes / 1e6).toFixed(1)} MB  ${img.reused ? 'up to date' : `built in ${img.seconds.toFixed(1)}s`}`);
} catch (err) {
  console.error(`platform-image: ${errorMessage(err)}`);
  process.exitCode = 1;
}
