// Prunes the platform image's production node_modules in place: onnxruntime-node ships native binaries for every
// OS and CPU (~290 MB); only this platform's (process.platform/process.arch, e.g. linux/x64, ~45 MB) stays.
// Runs inside the Dockerfile's build stage with nothing but node (plain JS, no dependencies).
// Usage: node infra/platform-image/prune-deps.mjs <node_modules>
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const [nodeModules] = process.argv.slice(2);
if (!nodeModules) {
  console.error('usage: node prune-deps.mjs <node_modules>');
  process.exit(2);
}
const bin = join(nodeModules, 'onnxruntime-node', 'bin');
if (!existsSync(bin)) {
  console.error(`prune-deps: ${bin} does not exist (is onnxruntime-node installed?)`);
  process.exit(1);
}
let kept = 0;
const removed = [];
// bin/napi-v<N>/<os>/<arch>/
for (const napi of readdirSync(bin)) {
  for (const os of readdirSync(join(bin, napi))) {
    for (const arch of readdirSync(join(bin, napi, os))) {
      if (os === process.platform && arch === process.arch) kept++;
      else {
        rmSync(join(bin, napi, os, arch), { recursive: true, force: true });
        removed.push(`${napi}/${os}/${arch}`);
      }
    }
    if (readdirSync(join(bin, napi, os)).length === 0) rmSync(join(bin, napi, os), { recursive: true });
  }
}
if (kept === 0) {
  console.error(`prune-deps: onnxruntime-node has no binary for ${process.platform}/${process.arch}`);
  process.exit(1);
}
console.log(`prune-deps: onnxruntime-node keeps ${process.platform}/${process.arch}, removed ${removed.join(', ') || 'nothing'}`);
