// An in-process fake of the Google Cloud Storage JSON API subset @google-cloud/storage 7 uses for objects: media,
// multipart and resumable (single or chunked) uploads, object metadata and `alt=media` downloads, list with prefix,
// delimiter and pagination, delete, and `ifGenerationMatch` / `generation` preconditions (412 / 404).
// Point the client at it with `new Storage({ apiEndpoint: fake.url })`. Anything outside the subset (an unknown query
// parameter, route or upload type) is answered 400 and recorded as `unsupported`, so a client change fails tests loudly.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32cBase64 } from './crc32c.js';

export interface FakeObject {
  name: string;
  data: Buffer;
  generation: string;
  contentType: string;
  metadata?: Record<string, string>;
  md5Hash: string;
  crc32c: string;
  timeCreated: string;
}

export type RequestKind =
  | 'bucket.get'
  | 'objects.list'
  | 'objects.get'
  | 'objects.media'
  | 'objects.delete'
  | 'upload.media'
  | 'upload.multipart'
  | 'upload.resumable.start'
  | 'upload.resumable.put'
  | 'unsupported';

export interface RecordedRequest {
  method: string;
  kind: RequestKind;
  bucket?: string;
  object?: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  status: number;
}

export interface FakeGcs {
  /** The `apiEndpoint` to give the client (http://127.0.0.1:PORT). */
  url: string;
  requests: RecordedRequest[];
  /** The live objects of a bucket, by name. */
  objects(bucket: string): Map<string, FakeObject>;
  /** Changes an object's bytes at rest without updating its stored hashes (bit rot / tampering). */
  corruptAtRest(bucket: string, name: string, data: Buffer): void;
  /** The next `alt=media` download of `name` sends `afterBytes` bytes and then drops the connection. */
  cutNextDownload(name: string, afterBytes: number): void;
  close(): Promise<void>;
}

interface Session {
  bucket: string;
  name: string;
  query: Record<string, string>;
  resource: Record<string, unknown>;
  chunks: Buffer[];
  received: number;
  done?: FakeObject;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const ALLOWED: Record<Exclude<RequestKind, 'unsupported'>, string[]> = {
  'bucket.get': [],
  'objects.list': ['prefix', 'delimiter', 'maxResults', 'pageToken'],
  'objects.get': ['generation', 'ifGenerationMatch'],
  'objects.media': ['alt', 'generation', 'ifGenerationMatch'],
  'objects.delete': ['generation', 'ifGenerationMatch'],
  'upload.media': ['uploadType', 'name', 'ifGenerationMatch'],
  'upload.multipart': ['uploadType', 'name', 'ifGenerationMatch'],
  'upload.resumable.start': ['uploadType', 'name', 'ifGenerationMatch'],
  'upload.resumable.put': ['uploadType', 'upload_id', 'name', 'ifGenerationMatch'],
};

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** multipart/related as the client (teeny-request) writes it: `--B\r\nheaders\r\n\r\nbody\r\n--B ... --B--`. */
export function parseMultipart(body: Buffer, boundary: string): { headers: Record<string, string>; body: Buffer }[] {
  const delim = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  if (body.indexOf(delim) !== 0) throw new HttpError(400, 'invalid', 'multipart body does not start with the boundary');
  const parts: { headers: Record<string, string>; body: Buffer }[] = [];
  let pos = delim.length;
  while (body.subarray(pos, pos + 2).toString() !== '--') {
    if (body.subarray(pos, pos + 2).toString() !== '\r\n') throw new HttpError(400, 'invalid', 'malformed multipart delimiter');
    pos += 2;
    const end = body.indexOf(next, pos);
    if (end < 0) throw new HttpError(400, 'invalid', 'multipart body is not closed');
    const part = body.subarray(pos, end);
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) throw new HttpError(400, 'invalid', 'multipart part without headers');
    const headers: Record<string, string> = {};
    for (const line of part.subarray(0, split).toString().split('\r\n')) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    parts.push({ headers, body: part.subarray(split + 4) });
    pos = end + next.length;
  }
  return parts;
}

export async function startFakeGcs(opts: { buckets: string[]; pageSize?: number }): Promise<FakeGcs> {
  const buckets = new Map(opts.buckets.map((b) => [b, new Map<string, FakeObject>()]));
  const sessions = new Map<string, Session>();
  const requests: RecordedRequest[] = [];
  const cuts = new Map<string, number>();
  let generation = BigInt(Date.now()) * 1000n;
  let url = '';

  const bucketOf = (name: string) => {
    const b = buckets.get(name);
    if (!b) throw new HttpError(404, 'notFound', `The specified bucket does not exist: ${name}`);
    return b;
  };

  const resource = (bucket: string, o: FakeObject) => ({
    kind: 'storage#object',
    id: `${bucket}/${o.name}/${o.generation}`,
    selfLink: `${url}/storage/v1/b/${bucket}/o/${encodeURIComponent(o.name)}`,
    mediaLink: `${url}/download/storage/v1/b/${bucket}/o/${encodeURIComponent(o.name)}?generation=${o.generation}&alt=media`,
    name: o.name,
    bucket,
    generation: o.generation,
    metageneration: '1',
    contentType: o.contentType,
    storageClass: 'STANDARD',
    size: String(o.data.length),
    md5Hash: o.md5Hash,
    crc32c: o.crc32c,
    etag: `${o.generation}`,
    timeCreated: o.timeCreated,
    updated: o.timeCreated,
    timeStorageClassUpdated: o.timeCreated,
    ...(o.metadata ? { metadata: o.metadata } : {}),
  });

  /** `ifGenerationMatch` (0 = must not exist) and `generation` (must be the live one) against the live object. */
  function checkPreconditions(objects: Map<string, FakeObject>, name: string, query: Record<string, string>, forRead: boolean): FakeObject | undefined {
    const live = objects.get(name);
    if (query.generation !== undefined && live?.generation !== query.generation) throw new HttpError(404, 'notFound', `No such object: ${name}#${query.generation}`);
    const m = query.ifGenerationMatch;
    if (m !== undefined) {
      if (!/^\d+$/.test(m)) throw new HttpError(400, 'invalid', `Invalid argument ifGenerationMatch=${m}`);
      if (m === '0' ? live !== undefined : live?.generation !== m) {
        if (forRead && !live) throw new HttpError(404, 'notFound', `No such object: ${name}`);
        throw new HttpError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');
      }
    }
    return live;
  }

  function store(bucket: string, name: string, data: Buffer, meta: Record<string, unknown>, query: Record<string, string>, sentHash?: string): FakeObject {
    if (!name) throw new HttpError(400, 'required', 'Required parameter: name');
    const objects = bucketOf(bucket);
    checkPreconditions(objects, name, query, false);
    const o: FakeObject = {
      name,
      data,
      generation: String(++generation),
      contentType: typeof meta.contentType === 'string' ? meta.contentType : 'application/octet-stream',
      ...(meta.metadata && typeof meta.metadata === 'object' ? { metadata: meta.metadata as Record<string, string> } : {}),
      md5Hash: createHash('md5').update(data).digest('base64'),
      crc32c: crc32cBase64(data),
      timeCreated: new Date().toISOString(),
    };
    // The client may send X-Goog-Hash with its own checksums: GCS refuses the upload when they disagree.
    for (const pair of sentHash?.split(',') ?? []) {
      const [alg, value] = [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1).trim()];
      const ours = alg === 'crc32c' ? o.crc32c : alg === 'md5' ? o.md5Hash : undefined;
      if (ours !== undefined && ours !== value) throw new HttpError(400, 'invalid', `Provided ${alg.toUpperCase()} "${value}" doesn't match calculated "${ours}".`);
    }
    objects.set(name, o);
    return o;
  }

  function classify(method: string, path: string, query: Record<string, string>): { kind: RequestKind; bucket?: string; object?: string } {
    const seg = path.split('/').slice(1);
    const decode = (s: string | undefined) => (s === undefined ? undefined : decodeURIComponent(s));
    if (seg[0] === 'storage' && seg[1] === 'v1' && seg[2] === 'b' && seg[3]) {
      const bucket = decode(seg[3]);
      if (seg.length === 4 && method === 'GET') return { kind: 'bucket.get', bucket };
      if (seg[4] === 'o' && seg.length === 5 && method === 'GET') return { kind: 'objects.list', bucket };
      if (seg[4] === 'o' && seg.length === 6) {
        const object = decode(seg[5]);
        if (method === 'GET') return { kind: query.alt === 'media' ? 'objects.media' : 'objects.get', bucket, object };
        if (method === 'DELETE') return { kind: 'objects.delete', bucket, object };
      }
    }
    if (seg.join('/').startsWith('upload/storage/v1/b/') && seg[5] === 'o' && seg.length === 6) {
      const bucket = decode(seg[4]);
      if (method === 'POST' && query.uploadType === 'media') return { kind: 'upload.media', bucket, object: query.name };
      if (method === 'POST' && query.uploadType === 'multipart') return { kind: 'upload.multipart', bucket, object: query.name };
      if (method === 'POST' && query.uploadType === 'resumable' && !query.upload_id) return { kind: 'upload.resumable.start', bucket, object: query.name };
      if (method === 'PUT' && query.uploadType === 'resumable' && query.upload_id) return { kind: 'upload.resumable.put', bucket, object: query.name };
    }
    return { kind: 'unsupported' };
  }

  function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, kind: RequestKind, bucket: string | undefined, object: string | undefined, query: Record<string, string>): Promise<number> {
    if (kind === 'unsupported') throw new HttpError(400, 'unsupported', `fake GCS: unsupported request ${req.method} ${req.url}`);
    const unknown = Object.keys(query).filter((k) => !ALLOWED[kind].includes(k));
    if (unknown.length) throw new HttpError(400, 'unsupported', `fake GCS: unsupported parameter(s) ${unknown.join(', ')} for ${kind}`);
    const objects = bucketOf(bucket!);
    const body = await readBody(req);
    switch (kind) {
      case 'bucket.get':
        sendJson(res, 200, { kind: 'storage#bucket', id: bucket, name: bucket, location: 'US', storageClass: 'STANDARD' });
        return 200;
      case 'objects.list': {
        const prefix = query.prefix ?? '';
        const pageSize = Math.min(Number(query.maxResults ?? Infinity), opts.pageSize ?? 1000);
        const after = query.pageToken ? Buffer.from(query.pageToken, 'base64url').toString() : undefined;
        const items: ReturnType<typeof resource>[] = [];
        const prefixes = new Set<string>();
        let last: string | undefined;
        let more = false;
        for (const name of [...objects.keys()].sort()) {
          if (!name.startsWith(prefix) || (after !== undefined && name <= after)) continue;
          if (items.length + prefixes.size >= pageSize) {
            more = true;
            break;
          }
          const rest = name.slice(prefix.length);
          const d = query.delimiter ? rest.indexOf(query.delimiter) : -1;
          if (d >= 0) prefixes.add(prefix + rest.slice(0, d + query.delimiter!.length));
          else items.push(resource(bucket!, objects.get(name)!));
          last = name;
        }
        sendJson(res, 200, {
          kind: 'storage#objects',
          ...(more && last !== undefined ? { nextPageToken: Buffer.from(last).toString('base64url') } : {}),
          ...(prefixes.size ? { prefixes: [...prefixes] } : {}),
          ...(items.length ? { items } : {}),
        });
        return 200;
      }
      case 'objects.get':
      case 'objects.media':
      case 'objects.delete': {
        const o = checkPreconditions(objects, object!, query, true);
        if (!o) throw new HttpError(404, 'notFound', `No such object: ${bucket}/${object}`);
        if (kind === 'objects.get') sendJson(res, 200, resource(bucket!, o));
        else if (kind === 'objects.delete') {
          objects.delete(object!);
          res.writeHead(204).end();
          return 204;
        } else {
          if (req.headers.range) throw new HttpError(400, 'unsupported', 'fake GCS: Range downloads are not supported');
          res.writeHead(200, {
            'content-type': o.contentType,
            'content-length': o.data.length,
            'x-goog-generation': o.generation,
            'x-goog-metageneration': '1',
            'x-goog-hash': `crc32c=${o.crc32c},md5=${o.md5Hash}`,
            'x-goog-stored-content-encoding': 'identity',
            'x-goog-stored-content-length': o.data.length,
            etag: o.generation,
          });
          const cut = cuts.get(o.name);
          if (cut !== undefined) {
            cuts.delete(o.name);
            res.write(o.data.subarray(0, cut), () => res.destroy());
          } else res.end(o.data);
        }
        return 200;
      }
      case 'upload.media': {
        const o = store(bucket!, query.name ?? '', body, { contentType: req.headers['content-type'] }, query, req.headers['x-goog-hash'] as string | undefined);
        sendJson(res, 200, resource(bucket!, o));
        return 200;
      }
      case 'upload.multipart': {
        const ct = /^multipart\/related;\s*boundary=(.+)$/.exec(req.headers['content-type'] ?? '');
        if (!ct) throw new HttpError(400, 'invalid', `multipart upload needs Content-Type multipart/related; boundary=..., got ${req.headers['content-type']}`);
        const parts = parseMultipart(body, ct[1]!.replace(/^"|"$/g, ''));
        if (parts.length !== 2 || !parts[0]!.headers['content-type']?.startsWith('application/json')) throw new HttpError(400, 'invalid', 'multipart upload needs a JSON metadata part and a media part');
        const meta = JSON.parse(parts[0]!.body.toString() || '{}') as Record<string, unknown>;
        const name = query.name ?? (typeof meta.name === 'string' ? meta.name : '');
        const o = store(bucket!, name, parts[1]!.body, { ...meta, contentType: meta.contentType ?? parts[1]!.headers['content-type'] }, query);
        sendJson(res, 200, resource(bucket!, o));
        return 200;
      }
      case 'upload.resumable.start': {
        const meta = body.length ? (JSON.parse(body.toString()) as Record<string, unknown>) : {};
        const name = query.name ?? (typeof meta.name === 'string' ? meta.name : '');
        if (!name) throw new HttpError(400, 'required', 'Required parameter: name');
        checkPreconditions(objects, name, query, false);
        const id = randomBytes(12).toString('hex');
        const contentType = req.headers['x-upload-content-type'];
        sessions.set(id, { bucket: bucket!, name, query, resource: { ...meta, ...(contentType ? { contentType } : {}) }, chunks: [], received: 0 });
        res.writeHead(200, { location: `${url}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`, 'content-length': 0 });
        res.end();
        return 200;
      }
      case 'upload.resumable.put': {
        const s = sessions.get(query.upload_id!);
        if (!s) throw new HttpError(404, 'notFound', 'No such upload session');
        const range = /^bytes (?:(\d+)-(\d+|\*)|\*)\/(\d+|\*)$/.exec(String(req.headers['content-range'] ?? ''));
        if (!range) throw new HttpError(400, 'invalid', `resumable PUT needs Content-Range, got ${req.headers['content-range']}`);
        const [, start, end, total] = range;
        if (s.done) {
          sendJson(res, 200, resource(s.bucket, s.done));
          return 200;
        }
        if (start !== undefined) {
          if (Number(start) > s.received) throw new HttpError(400, 'invalid', `chunk starts at ${start} but ${s.received} bytes were received`);
          const fresh = body.subarray(s.received - Number(start));
          s.chunks.push(fresh);
          s.received += fresh.length;
        }
        // Final when the total is known and reached, or when the request says "the rest is in here" (bytes N-*/*).
        const final = (total !== '*' && s.received >= Number(total)) || (start !== undefined && end === '*');
        if (!final) {
          res.writeHead(308, { ...(s.received ? { range: `bytes=0-${s.received - 1}` } : {}), 'content-length': 0 });
          res.end();
          return 308;
        }
        s.done = store(s.bucket, s.name, Buffer.concat(s.chunks), s.resource, s.query, req.headers['x-goog-hash'] as string | undefined);
        sendJson(res, 200, resource(s.bucket, s.done));
        return 200;
      }
    }
  }

  const server = createServer((req, res) => {
    const parsed = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(parsed.searchParams);
    const { kind, bucket, object } = classify(req.method ?? 'GET', parsed.pathname, query);
    const record: RecordedRequest = { method: req.method ?? 'GET', kind, query, headers: req.headers, status: 0, ...(bucket ? { bucket } : {}), ...(object ? { object } : {}) };
    requests.push(record);
    handle(req, res, kind, bucket, object, query).then(
      (status) => {
        record.status = status;
      },
      (err: unknown) => {
        const e = err instanceof HttpError ? err : new HttpError(500, 'backendError', String(err));
        record.status = e.status;
        if (e.reason === 'unsupported') record.kind = 'unsupported';
        if (!res.headersSent) sendJson(res, e.status, { error: { code: e.status, message: e.message, errors: [{ domain: 'global', reason: e.reason, message: e.message }] } });
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    objects: (bucket) => bucketOf(bucket),
    corruptAtRest(bucket, name, data) {
      const o = bucketOf(bucket).get(name);
      if (!o) throw new Error(`fake GCS: no object ${bucket}/${name}`);
      o.data = data;
    },
    cutNextDownload(name, afterBytes) {
      cuts.set(name, afterBytes);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
