// GcsStore (gs://) through the real @google-cloud/storage client against the in-process fake GCS JSON API: the same
// RegistryStore and Registry contracts as the filesystem, plus what only the network path shows.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../lib/exit-codes.js';
import { IntegrityError } from '../../registry/errors.js';
import { createGcsStore } from '../../registry/gcs-store.js';
import { blobKey, createRegistry, type Registry } from '../../registry/registry.js';
import { startFakeGcs, type FakeGcs } from '../helpers/fake-gcs/server.js';
import { writeModelVersion } from '../helpers/model-fixture.js';
import { describeRegistryContract } from './contract/registry-contract.js';
import { describeStoreContract, type StoreBackend } from './contract/store-contract.js';

const BUCKET = 'gsg-models';
const PREFIX = 'team/registry';
const fakes: FakeGcs[] = [];

/** Small resumable threshold so model files take the resumable path and JSON documents the multipart one; pages of 2 so every list paginates. */
const gcsClient = (fake: FakeGcs) => createGcsStore({ bucket: BUCKET, prefix: PREFIX, apiEndpoint: fake.url, resumableThreshold: 1024, downloadIdleTimeoutMs: 500, retryOptions: { maxRetries: 1, totalTimeout: 5 } });

async function gcsBackend(): Promise<StoreBackend> {
  const fake = await startFakeGcs({ buckets: [BUCKET], pageSize: 2 });
  fakes.push(fake);
  return { client: () => gcsClient(fake), close: () => fake.close() };
}

describeStoreContract('GcsStore', gcsBackend);
describeRegistryContract('GcsStore', gcsBackend);

describe('GcsStore over the network', () => {
  let fake: FakeGcs;
  let tmp: string;
  let registry: Registry;
  const ref = 'sentiment-logreg@2026-11-25.001';
  beforeAll(async () => {
    fake = await startFakeGcs({ buckets: [BUCKET] });
    fakes.push(fake);
    tmp = await mkdtemp(join(tmpdir(), 'gsg-gcs-'));
    registry = createRegistry(gcsClient(fake), { cacheDir: join(tmp, 'cache') });
    await registry.push((await writeModelVersion(join(tmp, 'src'), { modelBytes: Buffer.alloc(4096, 1) })).dir);
  });
  afterAll(async () => {
    await fake.close();
    await rm(tmp, { recursive: true, force: true });
  });

  const uploads = () => fake.requests.filter((r) => r.kind.startsWith('upload.') && r.kind !== 'upload.resumable.put');

  it('keeps every object under the gs:// prefix; large objects go up resumable, small ones multipart', async () => {
    await registry.setAlias('sentiment-logreg', 'production', '2026-11-25.001');
    expect(uploads().every((r) => r.object?.startsWith(`${PREFIX}/`))).toBe(true);
    expect(uploads().find((r) => r.object?.endsWith('/aliases/production.json'))?.kind).toBe('upload.multipart');
    expect(uploads().filter((r) => r.kind === 'upload.resumable.start').length).toBeGreaterThan(0);
  });

  it('commits a version with a single if-absent write of its manifest (ifGenerationMatch=0)', () => {
    const manifestWrites = uploads().filter((r) => r.object?.includes('/versions/'));
    expect(manifestWrites.map((r) => r.query.ifGenerationMatch)).toEqual(['0']);
  });

  it('materializes a second time without a single media download', async () => {
    const first = await registry.materialize(ref);
    expect(first.cached).toBe(false);
    const before = fake.requests.length;
    const second = await registry.materialize(ref);
    expect(second.cached).toBe(true);
    const media = fake.requests.slice(before).filter((r) => r.kind === 'objects.media' && r.object?.includes('/blobs/'));
    expect(media).toEqual([]);
  });

  it('fails with an integrity error (exit 5) when stored bytes no longer match their crc32c, leaving nothing', async () => {
    const resolved = await registry.resolve(ref);
    const sha = resolved.manifest.files['model.onnx']!.sha256;
    fake.corruptAtRest(BUCKET, `${PREFIX}/${blobKey(sha)}`, Buffer.alloc(4096, 2));
    const err = await registry.pull(ref, join(tmp, 'rot', 'dest')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as IntegrityError).exitCode).toBe(ExitCode.Integrity);
    expect((err as Error).message).toMatch(/model\.onnx/);
    expect(await readdir(join(tmp, 'rot'))).toEqual([]);
    fake.corruptAtRest(BUCKET, `${PREFIX}/${blobKey(sha)}`, Buffer.alloc(4096, 1));
  });

  it('leaves nothing at the destination when the server drops the connection mid-download', async () => {
    const sha = (await registry.resolve(ref)).manifest.files['model.onnx']!.sha256;
    fake.cutNextDownload(`${PREFIX}/${blobKey(sha)}`, 1000);
    await expect(registry.pull(ref, join(tmp, 'cut', 'dest'))).rejects.toThrow(/model\.onnx/);
    expect(await readdir(join(tmp, 'cut'))).toEqual([]);
    await registry.pull(ref, join(tmp, 'cut', 'dest'));
    expect((await readdir(join(tmp, 'cut', 'dest'))).sort()).toEqual(['explain.json', 'metadata.json', 'model.onnx', 'report.md']);
  });
});

describe('fake GCS traffic', () => {
  it('contained only requests of the documented shapes the fake implements', () => {
    expect(fakes.flatMap((f) => f.requests.filter((r) => r.kind === 'unsupported'))).toEqual([]);
    expect(fakes.flatMap((f) => f.requests).length).toBeGreaterThan(100);
  });
});
