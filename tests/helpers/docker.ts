// Gate for tests that need a Docker engine: in CI (CI=true) a missing engine fails the suite; elsewhere it skips with a reason.
import { execFileSync } from 'node:child_process';
import { describe } from 'vitest';

let cached: boolean | undefined;

export function dockerAvailable(): boolean {
  if (cached !== undefined) return cached;
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 10_000 });
    cached = true;
  } catch {
    cached = false;
  }
  return cached;
}

/** `describe` for suites that need Docker. */
export function describeDocker(name: string, fn: () => void): void {
  if (dockerAvailable()) {
    describe(name, fn);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      throw new Error(`${name}: CI=true but no Docker engine answers \`docker info\` (start dockerd)`);
    });
  } else {
    console.warn(`skipping "${name}": no Docker engine (docker info failed)`);
    describe.skip(name, fn);
  }
}
