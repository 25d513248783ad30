// The entry the ProcessRuntime runs: the one-file model-server bundle (the image's server.mjs, written to
// dist/model-server.mjs), which reaches /ready with ~25% less CPU than dist/'s module tree (no per-module
// resolution and loading). Rebuilt when a source is newer; falls back to dist/services/model-server/src/main.js
// where it cannot be built (a deployed tree without sources or esbuild).
import { existsSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../../lib/log.js';

type BuildScript = typeof import('../../scripts/build.mjs');

/**
 * How every model server process is started (ProcessRuntime, bench:server; the Dockerfile's ENTRYPOINT and ENV repeat
 * them). A small V8 young generation and a capped old generation keep RSS under load near the idle ~106 MB instead
 * of ~150 MB, at no measured cost in requests/s (the server's request bytes in flight are capped by
 * GSG_MAX_INFLIGHT_BYTES, so the old generation cannot be exhausted by a burst); one malloc arena stops ONNX Runtime's
 * and libuv's threads from each growing their own.
 */
export const SERVER_NODE_ARGS = ['--max-semi-space-size=2', '--max-old-space-size=64'] as const;
export const SERVER_PROCESS_ENV = { MALLOC_ARENA_MAX: '1' } as const;

export function serverBundlePath(root: string): string {
  return join(root, 'dist', 'model-server.mjs');
}

export function serverDistEntry(root: string): string {
  return join(root, 'dist', 'services', 'model-server', 'src', 'main.js');
}

/** Path of an up-to-date server bundle under `root`, building it first when missing or older than a source. */
export async function ensureServerBundle(root: string, log?: Logger): Promise<string> {
  const out = serverBundlePath(root);
  const script = join(root, 'scripts', 'build.mjs');
  if (!existsSync(script)) return existsSync(out) ? out : serverDistEntry(root);
  try {
    const build = (await import(pathToFileURL(script).href)) as BuildScript;
    const { files, newest } = build.listSources();
    const built = await stat(out).catch(() => undefined);
    if (built && (files.length === 0 || built.mtimeMs >= newest)) return out;
    if (files.length === 0) return serverDistEntry(root);
    // Written aside, then renamed: a concurrent runtime never starts a half-written file.
    const tmp = `${out}.${process.pid}.tmp.mjs`;
    const t0 = performance.now();
    try {
      await build.bundleServer(tmp);
      await rename(tmp, out);
    } finally {
      await rm(tmp, { force: true });
    }
    log?.info({ event: 'runtime.bundle_built', file: out, ms: Math.round(performance.now() - t0) });
    return out;
  } catch (err) {
    log?.warn({ event: 'runtime.bundle_failed', err: (err as Error).message, fallback: serverDistEntry(root) });
    return serverDistEntry(root);
  }
}
