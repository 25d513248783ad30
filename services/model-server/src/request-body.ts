// Reads and validates a JSON request body on the raw node:http path: content type (415), size limit from
// content-length before reading and while streaming (413), JSON syntax (400), the zod request schema (422)
// and upstream's per-text byte limit (400).
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { formatIssuePath } from '../../../lib/zod-errors.js';
import { MAX_TEXT_BYTES } from './api-schemas.js';
import { ClientAbortedError, MalformedJsonError, PayloadTooLargeError, RequestValidationError, TextTooLargeError, UnsupportedMediaTypeError } from './errors.js';

/** application/json or any application/*+json, parameters (charset) allowed; a missing header is read as JSON. */
export function checkJsonContentType(header: string | undefined): void {
  if (header === undefined) return;
  const semi = header.indexOf(';');
  const type = (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
  if (type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))) return;
  throw new UnsupportedMediaTypeError(type || '(empty)');
}

/**
 * Reads the whole body, refusing it with PayloadTooLargeError as soon as content-length or the bytes received
 * pass `limit` (the caller answers 413 and closes the connection, so the rest is never read).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    const n = Number(declared);
    if (n > limit) return Promise.reject(new PayloadTooLargeError(limit, n));
  }
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(new PayloadTooLargeError(limit));
        return;
      }
      if (first === undefined) first = chunk;
      else (chunks ??= [first]).push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks ? Buffer.concat(chunks, size) : (first ?? Buffer.alloc(0)));
    };
    // 'error' here is the connection failing mid-body (ECONNRESET, aborted): the client's doing, not ours.
    const onError = () => {
      cleanup();
      reject(new ClientAbortedError());
    };
    const onClose = onError;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

export function parseJson(body: Buffer): unknown {
  if (body.length === 0) throw new MalformedJsonError('empty body');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new MalformedJsonError((err as Error).message);
  }
}

/** One line naming the field and index; upstream's own messages (custom issues) are passed through as they are. */
export function formatValidationIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.code === 'custom' ? i.message : `${formatIssuePath(i.path)}: ${i.message}`)).join('; ');
}

/** Validates a parsed body with a request schema, then upstream's 5,120-byte limit per text. */
export function validateTextsRequest<S extends z.ZodType<{ texts: string[] }>>(schema: S, raw: unknown): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new RequestValidationError(formatValidationIssues(parsed.error));
  const texts = parsed.data.texts;
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i]!;
    // UTF-8 uses at most 3 bytes per UTF-16 code unit, so short strings need no byte count.
    if (t.length * 3 > MAX_TEXT_BYTES) {
      const bytes = Buffer.byteLength(t, 'utf8');
      if (bytes > MAX_TEXT_BYTES) throw new TextTooLargeError(i, bytes, MAX_TEXT_BYTES);
    }
  }
  return parsed.data;
}
