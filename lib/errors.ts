// Base error type shared by every module: a stable code, context for logs, and the CLI exit code it maps to.
import { ExitCode } from './exit-codes.js';

export class GsgError extends Error {
  readonly code: string;
  readonly context: Record<string, unknown>;
  readonly exitCode: ExitCode;

  constructor(message: string, opts: { code?: string; context?: Record<string, unknown>; exitCode?: ExitCode; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = opts.code ?? 'error';
    this.context = opts.context ?? {};
    this.exitCode = opts.exitCode ?? ExitCode.Error;
  }
}

/** Input from a user (CLI flag, config value, file contents) that fails validation. */
export class BadInputError extends GsgError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { code: 'bad_input', context, exitCode: ExitCode.BadInput });
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
