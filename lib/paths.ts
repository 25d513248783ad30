// Well-known locations: the project root (for the bundled model and assets) and the per-user state home.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory holding package.json, found by walking up from this file (works from sources and dist/). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** $GSG_HOME, default ~/.gsg: registry, cache, platform state. */
export function gsgHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.GSG_HOME ?? join(env.HOME ?? homedir(), '.gsg'));
}

/**
 * <home>/platform: the running platform's state (router.json, rollout.json, runtime.json, admin-token, targets/);
 * `home` is a GSG home directory, or an environment to take $GSG_HOME from.
 */
export function platformDir(home: string | NodeJS.ProcessEnv = process.env): string {
  return join(typeof home === 'string' ? home : gsgHome(home), 'platform');
}

export function bundledModelsDir(): string {
  return join(projectRoot(), 'models', 'sentiment-logreg');
}
