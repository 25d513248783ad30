// Typed errors of the router (admin changes, auth, upstream failures) and the one place they map to HTTP statuses.
import type { ServerResponse } from 'node:http';
import { GsgError } from '../lib/errors.js';
import { ExitCode } from '../lib/exit-codes.js';

/** A write carried `If-Match: <generation>` that is no longer current. */
export class StaleGenerationError extends GsgError {
  constructor(expected: number, actual: number) {
    super(`stale generation: If-Match is ${expected}, the router state is at generation ${actual}`, {
      code: 'stale_generation',
      context: { expected, generation: actual },
      exitCode: ExitCode.Conflict,
    });
  }
}

/** A well-formed request asking for a state the router refuses (bad weights, weighted color without upstream). */
export class InvalidChangeError extends GsgError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { code: 'invalid_change', context, exitCode: ExitCode.BadInput });
  }
}

/** A malformed request the router itself must read (pin header, If-Match, admin JSON body). */
export class BadRequestError extends GsgError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { code: 'bad_request', context, exitCode: ExitCode.BadInput });
  }
}

export class UnauthorizedError extends GsgError {
  constructor(message = 'missing or invalid admin token (Authorization: Bearer $GSG_ADMIN_TOKEN)') {
    super(message, { code: 'unauthorized', exitCode: ExitCode.Refused });
  }
}

export class ForbiddenError extends GsgError {
  constructor(message: string) {
    super(message, { code: 'forbidden', exitCode: ExitCode.Refused });
  }
}

export class NotFoundError extends GsgError {
  constructor(message: string) {
    super(message, { code: 'not_found', exitCode: ExitCode.NotFound });
  }
}

export class PayloadTooLargeError extends GsgError {
  constructor(limitBytes: number) {
    super(`Request body exceeds the limit of ${limitBytes} bytes`, { code: 'payload_too_large', context: { limitBytes } });
  }
}

/** No color can take the request: none ready, or the pinned color is not ready / has no upstream. */
export class NoReadyUpstreamError extends GsgError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { code: 'no_ready_upstream', context });
  }
}

/** The upstream failed to connect or reset the connection (after the one retry). */
export class BadGatewayError extends GsgError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { code: 'bad_gateway', context });
  }
}

export class GatewayTimeoutError extends GsgError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { code: 'gateway_timeout', context });
  }
}

const STATUS_BY_CODE: Record<string, number> = {
  bad_request: 400,
  bad_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  stale_generation: 412,
  payload_too_large: 413,
  invalid_change: 422,
  bad_gateway: 502,
  no_ready_upstream: 503,
  gateway_timeout: 504,
};

/** HTTP status for any error the router can raise; body-parser errors keep their own 4xx status. */
export function httpStatusOf(err: unknown): number {
  if (err instanceof GsgError) return STATUS_BY_CODE[err.code] ?? 500;
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
}

/** Writes `{"detail": message}` (plus `generation` for 412) with the mapped status; usable from raw and express handlers. */
export function sendError(res: ServerResponse, err: unknown, headers: Record<string, string> = {}): void {
  const { status, body } = errorAnswer(err);
  sendJson(res, status, body, headers);
}

/** The status and JSON body the router answers an error with (for the hot path, which writes raw responses). */
export function errorAnswer(err: unknown): { status: number; body: Record<string, unknown> } {
  const status = httpStatusOf(err);
  const body: Record<string, unknown> = { detail: status === 500 ? 'internal router error' : detailOf(err) };
  if (err instanceof StaleGenerationError) body.generation = err.context.generation;
  return { status, body };
}

function detailOf(err: unknown): string {
  if (err instanceof GsgError) return err.message;
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed') return 'request body is not valid JSON';
  if (type === 'entity.too.large') return 'request body too large';
  return err instanceof Error ? err.message : String(err);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
