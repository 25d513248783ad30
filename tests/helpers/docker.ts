// Gate for tests that need a Docker engine: in CI (CI=true) a missing engine fails the suite; elsewhere it skips with a reason.
import { execFileSync } from 'node:child_process';
import { describeRequiring } from './requirement.js';

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

/** `describe` for suites that need Docker (see describeRequiring). */
export function describeDocker(name: string, fn: () => void): void {
  describeRequiring(() => (dockerAvailable() ? null : 'no Docker engine answers `docker info` (start dockerd)'), name, fn);
}
