// Keeps the fake GCS server honest: the real @google-cloud/storage client talks to it through every request shape the
// GcsStore relies on (documented JSON API: uploads, get, list, delete, preconditions), and it refuses anything else.
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32c, crc32cBase64 } from '../helpers/fake-gcs/crc32c.js';
import { startFakeGcs, type FakeGcs } from '../helpers/fake-gcs/server.js';

const BUCKET = 'gsg-fake';
let fake: FakeGcs;
let storage: Storage;

beforeAll(async () => {
  fake = await startFakeGcs({ buckets: [BUCKET], pageSize: 3 });
  storage = new Storage({ apiEndpoint: fake.url, projectId: 'gsg-local', retryOptions: { maxRetries: 0 } });
});
afterAll(() => fake.close());

const bucket = () => storage.bucket(BUCKET);
const last = () => fake.requests.at(-1)!;
const statusOf = (err: unknown) => (err as { code?: number }).code;

describe('fake GCS server', () => {
  it('computes CRC32C like GCS (check value of "123456789" is 0xE3069283)', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32cBase64(Buffer.from(''))).toBe('AAAAAA==');
  });

  it('stores a small object through a multipart upload and serves it back with alt=media', async () => {
    await bucket().file('a/small.txt').save(Buffer.from('hola'), { resumable: false, validation: 'crc32c' });
    expect(last()).toMatchObject({ method: 'POST', kind: 'upload.multipart', object: 'a/small.txt', status: 200 });
    const [data] = await bucket().file('a/small.txt').download();
    expect(data.toString()).toBe('hola');
    expect(last()).toMatchObject({ kind: 'objects.media', object: 'a/small.txt', status: 200 });
  });

  it('stores an object through a single-request resumable upload (session start, then one PUT)', async () => {
    const data = Buffer.alloc(300_000, 7);
    const before = fake.requests.length;
    await bucket().file('a/resumable.bin').save(data, { resumable: true, validation: 'crc32c' });
    expect(fake.requests.slice(before).map((r) => `${r.kind} ${r.status}`)).toEqual(['upload.resumable.start 200', 'upload.resumable.put 200']);
    expect(fake.objects(BUCKET).get('a/resumable.bin')!.data.equals(data)).toBe(true);
  });

  it('stores an object through a chunked resumable upload (308 with Range between chunks)', async () => {
    const data = Buffer.alloc(600_000, 3);
    const before = fake.requests.length;
    await bucket().file('a/chunked.bin').save(data, { resumable: true, chunkSize: 256 * 1024 });
    const puts = fake.requests.slice(before).filter((r) => r.kind === 'upload.resumable.put');
    expect(puts.map((r) => r.status)).toEqual([308, 308, 200]);
    expect(fake.objects(BUCKET).get('a/chunked.bin')!.data.equals(data)).toBe(true);
  });

  it('refuses an upload whose X-Goog-Hash disagrees with the bytes, as GCS does', async () => {
    const res = await fetch(`${fake.url}/upload/storage/v1/b/${BUCKET}/o?uploadType=media&name=bad.bin`, { method: 'POST', body: 'abc', headers: { 'x-goog-hash': `crc32c=${crc32cBase64(Buffer.from('abd'))}` } });
    expect(res.status).toBe(400);
    expect(fake.objects(BUCKET).has('bad.bin')).toBe(false);
  });

  it('returns object metadata with generation, size, md5Hash and crc32c', async () => {
    const [meta] = await bucket().file('a/small.txt').getMetadata();
    expect(meta).toMatchObject({ name: 'a/small.txt', bucket: BUCKET, size: '4', crc32c: crc32cBase64(Buffer.from('hola')) });
    expect(meta.generation).toMatch(/^\d+$/);
  });

  it('answers 412 when ifGenerationMatch does not hold, for uploads (0 = must not exist) and deletes', async () => {
    await expect(bucket().file('a/small.txt').save(Buffer.from('x'), { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } })).rejects.toSatisfy((e) => statusOf(e) === 412);
    await expect(bucket().file('a/small.txt').save(Buffer.from('x'), { resumable: true, preconditionOpts: { ifGenerationMatch: 0 } })).rejects.toSatisfy((e) => statusOf(e) === 412 || (e as { response?: { status?: number } }).response?.status === 412);
    await expect(bucket().file('a/small.txt').delete({ ifGenerationMatch: '1' })).rejects.toSatisfy((e) => statusOf(e) === 412);
    const [data] = await bucket().file('a/small.txt').download();
    expect(data.toString()).toBe('hola');
  });

  it('replaces an object when ifGenerationMatch names its current generation, giving it a new generation', async () => {
    const [meta] = await bucket().file('a/small.txt').getMetadata();
    await bucket().file('a/small.txt').save(Buffer.from('adiós'), { resumable: false, preconditionOpts: { ifGenerationMatch: meta.generation! } });
    const [after] = await bucket().file('a/small.txt').getMetadata();
    expect(BigInt(after.generation!)).toBeGreaterThan(BigInt(meta.generation!));
  });

  it('lists by prefix across pages (the client follows nextPageToken)', async () => {
    for (const n of ['p/1', 'p/2', 'p/3', 'p/4', 'p/5', 'q/1']) await bucket().file(n).save(Buffer.from(n), { resumable: false });
    const before = fake.requests.length;
    const [files] = await bucket().getFiles({ prefix: 'p/', autoPaginate: true });
    expect(files.map((f) => f.name)).toEqual(['p/1', 'p/2', 'p/3', 'p/4', 'p/5']);
    expect(fake.requests.slice(before).filter((r) => r.kind === 'objects.list')).toHaveLength(2);
  });

  it('answers 404 for a missing object (metadata, media, delete) and exists() says false', async () => {
    await expect(bucket().file('nope').getMetadata()).rejects.toSatisfy((e) => statusOf(e) === 404);
    await expect(bucket().file('nope').download()).rejects.toSatisfy((e) => statusOf(e) === 404);
    await expect(bucket().file('nope').delete()).rejects.toSatisfy((e) => statusOf(e) === 404);
    expect((await bucket().file('nope').exists())[0]).toBe(false);
  });

  it('deletes an object', async () => {
    await bucket().file('q/1').delete();
    expect(fake.objects(BUCKET).has('q/1')).toBe(false);
  });

  it('makes the client fail a download whose bytes do not match the stored crc32c (corruption at rest)', async () => {
    fake.corruptAtRest(BUCKET, 'p/1', Buffer.from('XX'));
    await expect(bucket().file('p/1').download()).rejects.toMatchObject({ code: 'CONTENT_DOWNLOAD_MISMATCH' });
  });

  it('records every request the client made as a supported kind', () => {
    expect(fake.requests.filter((r) => r.kind === 'unsupported')).toEqual([]);
  });

  it('refuses requests outside the subset with 400 (unknown parameter, unknown route)', async () => {
    const r1 = await fetch(`${fake.url}/storage/v1/b/${BUCKET}/o?prefix=p&fields=items(name)`);
    const r2 = await fetch(`${fake.url}/storage/v1/b/${BUCKET}/o/p%2F2/compose`, { method: 'POST' });
    expect([r1.status, r2.status]).toEqual([400, 400]);
    expect(fake.requests.slice(-2).map((r) => r.kind)).toEqual(['unsupported', 'unsupported']);
  });
});
