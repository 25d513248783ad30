// `npm run base-image [-- --force] [--no-strip]`: builds the offline base images gsg-base/node:20-bookworm-slim (build
// stage: node, npm, sh) and gsg-base/node:20-runtime (runtime stage: node only) from this machine's Node runtime.
import { parseArgs } from 'node:util';
import { errorMessage } from '../../lib/errors.js';
import { ensureBaseImages } from './base-image.js';

try {
  const { values } = parseArgs({ options: { force: { type: 'boolean', default: false }, 'no-strip': { type: 'boolean', default: false } } });
  const images = await ensureBaseImages({ force: values.force, strip: values['no-strip'] ? false : undefined, onLine: (l) => console.log(l) });
  for (const img of Object.values(images)) {
    console.log(`${img.tag}  ${img.id.slice(7, 19)}  ${(img.sizeBytes / 1e6).toFixed(1)} MB  ${img.built ? `built in ${img.seconds.toFixed(1)}s` : 'up to date'}`);
  }
} catch (err) {
  console.error(`base-image: ${errorMessage(err)}`);
  process.exitCode = 1;
}
