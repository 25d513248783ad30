// The one gate for suites that need a system part (a Docker engine, Prometheus): with CI=true a missing part fails
// the suite, so CI can never pass by skipping; elsewhere the suite is skipped with a one-line reason.
import { describe } from 'vitest';

/** `describe` that runs when `missing()` returns null, and otherwise fails in CI or skips (with the reason) elsewhere. */
export function describeRequiring(missing: () => string | null, name: string, fn: () => void): void {
  const reason = missing();
  if (reason === null) {
    describe(name, fn);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      throw new Error(`${name}: CI=true but ${reason}`);
    });
  } else {
    console.warn(`skipping "${name}": ${reason}`);
    describe.skip(name, fn);
  }
}
