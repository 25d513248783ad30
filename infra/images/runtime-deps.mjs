// Assembles the image's runtime node_modules from the build stage's full install: onnxruntime-node cut to this
// platform's CPU binary (+ onnxruntime-common, CommonJS build only) and the swagger-ui-dist files /docs serves.
// Runs inside the Dockerfile's build stage with nothing but node (plain JS, no dependencies).
// Usage: node infra/images/runtime-deps.mjs <from node_modules> <to node_modules>
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const platformDir = `/${process.platform}/${process.arch}/`;
const jsOnly = (rel) => rel.endsWith('.js') || rel.endsWith('.cjs') || rel.endsWith('package.json');

/** Per package: which files (relative to the package directory) the server needs at run time. */
export const KEEP = {
  'onnxruntime-node': (rel) =>
    rel === 'package.json' || rel === 'LICENSE' || (rel.startsWith('dist/') && jsOnly(rel)) || (/^bin\/napi-v\d+\//.test(rel) && rel.includes(platformDir)),
  'onnxruntime-common': (rel) => rel === 'package.json' || rel === 'LICENSE' || (rel.startsWith('dist/cjs/') && jsOnly(rel)),
  'swagger-ui-dist': (rel) => ['package.json', 'LICENSE', 'swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-16x16.png', 'favicon-32x32.png'].includes(rel),
};

function* files(dir, root = dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p, root);
    else yield relative(root, p);
  }
}

const [from, to] = process.argv.slice(2);
if (!from || !to) {
  console.error('usage: node runtime-deps.mjs <from node_modules> <to node_modules>');
  process.exit(2);
}
for (const [pkg, keep] of Object.entries(KEEP)) {
  const src = join(from, pkg);
  if (!existsSync(join(src, 'package.json'))) {
    console.error(`runtime-deps: ${src} is not installed`);
    process.exit(1);
  }
  let n = 0;
  for (const rel of files(src)) {
    if (!keep(rel)) continue;
    cpSync(join(src, rel), join(to, pkg, rel));
    n++;
  }
  console.log(`runtime-deps: ${pkg}: ${n} files`);
}
