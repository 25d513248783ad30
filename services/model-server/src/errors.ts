// The model server's typed request errors and the one place that maps any error to an HTTP status and
// a JSON `{"detail": ...}` body (so no handler picks status codes, and no HTML error page is ever sent).
import { GsgError } from '../../../lib/errors.js';

/** Base of every error a request can end in; `detail` is what the client reads. */
export abstract class RequestError extends GsgError {
  constructor(code: string, detail: string, context: Record<string, unknown> = {}) {
    super(detail, { code, context });
  }
}

/** The body does not match the request schema (field and index named in the message). */
export class RequestValidationError extends RequestError {
  constructor(detail: string, context: Record<string, unknown> = {}) {
    super('validation', detail, context);
  }
}
/** A text over the 5,120-byte limit (upstream answers 400 for this one, not 422). */
export class TextTooLargeError extends RequestError {
  constructor(index: number, bytes: number, limit: number) {
    super('text_too_large', `Text at index ${index} exceeds maximum size of ${limit} bytes (${bytes} bytes provided)`, { index, bytes, limit });
  }
}
export class MalformedJsonError extends RequestError {
  constructor(reason: string) {
    super('malformed_json', `Request body is not valid JSON: ${reason}`);
  }
}
export class PayloadTooLargeError extends RequestError {
  constructor(limit: number, contentLength?: number) {
    super('payload_too_large', `Request body exceeds the limit of ${limit} bytes${contentLength === undefined ? '' : ` (content-length ${contentLength})`}`, { limit, contentLength });
  }
}
export class UnsupportedMediaTypeError extends RequestError {
  constructor(contentType: string) {
    super('unsupported_media_type', `Content-Type must be application/json (got ${contentType})`, { contentType });
  }
}
export class RouteNotFoundError extends RequestError {
  constructor(method: string, path: string) {
    super('route_not_found', `Not found: ${method} ${path}`, { method, path });
  }
}
export class MethodNotAllowedError extends RequestError {
  readonly allow: string;
  constructor(method: string, path: string, allow: string) {
    super('method_not_allowed', `Method ${method} not allowed on ${path} (allowed: ${allow})`, { method, path });
    this.allow = allow;
  }
}
export class NotReadyError extends RequestError {
  constructor(reason: 'loading' | 'failed' | 'closed') {
    super('not_ready', reason === 'loading' ? 'Model is loading, not ready yet' : reason === 'failed' ? 'Model failed to load' : 'Server is shut down', { reason });
  }
}
/** The client went away before its body was complete: nobody reads the answer, and it is not a server error. */
export class ClientAbortedError extends RequestError {
  constructor() {
    super('client_aborted', 'Client closed the connection before the request body was complete');
  }
}
/** More request bytes in flight than GSG_MAX_INFLIGHT_BYTES: back-pressure, so a burst cannot exhaust the capped heap. */
export class OverloadedError extends RequestError {
  constructor(inflightBytes: number, budget: number) {
    super('overloaded', `Server busy: ${inflightBytes} request bytes in flight (budget ${budget}); retry shortly`, { inflightBytes, budget });
  }
}
/** GSG_FAULT_ERROR_RATE: a deliberately failed prediction for release-pipeline tests. */
export class InjectedFaultError extends RequestError {
  constructor() {
    super('injected_fault', 'injected fault');
  }
}

const STATUS: ReadonlyArray<readonly [abstract new (...args: never[]) => RequestError, number]> = [
  [RequestValidationError, 422],
  [TextTooLargeError, 400],
  [MalformedJsonError, 400],
  [PayloadTooLargeError, 413],
  [UnsupportedMediaTypeError, 415],
  [RouteNotFoundError, 404],
  [MethodNotAllowedError, 405],
  [NotReadyError, 503],
  [OverloadedError, 503],
  [InjectedFaultError, 500],
  [ClientAbortedError, 400],
];

export interface HttpErrorResponse {
  status: number;
  /** Already serialised `{"detail": ...}`. */
  body: string;
  headers: Record<string, string>;
  /** True for errors the server caused (500s that are not injected): log them with their stack. */
  internal: boolean;
}

/** Maps any thrown value to the response a client gets. Unknown errors are 500 with a generic detail. */
export function toHttpError(err: unknown): HttpErrorResponse {
  if (err instanceof RequestError) {
    const status = STATUS.find(([cls]) => err instanceof cls)?.[1] ?? 500;
    const headers: Record<string, string> = err instanceof MethodNotAllowedError ? { allow: err.allow } : err instanceof OverloadedError ? { 'retry-after': '1' } : {};
    return { status, body: JSON.stringify({ detail: err.message }), headers, internal: false };
  }
  // Body-parser style errors (express.json is not used, but keep the shape if a library throws one).
  const e = err as { status?: unknown; type?: unknown } | undefined;
  if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return { status: e.status, body: JSON.stringify({ detail: err instanceof Error ? err.message : String(err) }), headers: {}, internal: false };
  }
  return { status: 500, body: '{"detail":"Internal server error"}', headers: {}, internal: true };
}
