// The request id rule shared by the router and the model server: a client's x-request-id is kept when it is 1-128
// visible ASCII characters, otherwise a new UUID is made; either way it is echoed and in every log line.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const REQUEST_ID_RE = /^[\x21-\x7e]{1,128}$/;

export function requestIdOf(req: IncomingMessage): string {
  return requestIdFrom(req.headers['x-request-id']);
}

/** The same rule for a header value read without node:http (the router's fast path). */
export function requestIdFrom(given: string | string[] | undefined): string {
  return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
}
