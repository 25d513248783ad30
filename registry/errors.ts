// Typed errors of the model registry, each mapped to its documented CLI exit code (lib/exit-codes.ts).
import { GsgError } from '../lib/errors.js';
import { ExitCode } from '../lib/exit-codes.js';

type Context = Record<string, unknown>;

/** Any registry failure that is not one of the specific kinds below (store unreachable, lock stuck, ...). */
export class RegistryError extends GsgError {
  constructor(message: string, context: Context = {}, opts: { code?: string; exitCode?: ExitCode; cause?: unknown } = {}) {
    super(message, { code: opts.code ?? 'registry', context, exitCode: opts.exitCode ?? ExitCode.Error, cause: opts.cause });
  }
}

/** A model, version, alias or object that does not exist (exit 3). */
export class NotFoundError extends RegistryError {
  constructor(message: string, context: Context = {}) {
    super(message, context, { code: 'not_found', exitCode: ExitCode.NotFound });
  }
}

/** The registry changed under the caller: version exists, alias moved concurrently (exit 4). */
export class ConflictError extends RegistryError {
  constructor(message: string, context: Context = {}) {
    super(message, context, { code: 'conflict', exitCode: ExitCode.Conflict });
  }
}

/** A store-level compare-and-swap failed: the object's generation is not the expected one. */
export class PreconditionFailedError extends ConflictError {
  constructor(key: string, expected: string) {
    super(`${key}: precondition failed (expected generation ${expected === '0' ? '"absent"' : expected})`, { key, expected });
  }
}

/** Stored bytes do not match what the manifest says (exit 5). */
export class IntegrityError extends RegistryError {
  constructor(message: string, context: Context = {}) {
    super(message, context, { code: 'integrity', exitCode: ExitCode.Integrity });
  }
}
