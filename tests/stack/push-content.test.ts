// `npm run stack:push` of a version the stack's registry already has (exit 4): the same content is a re-run, other
// content a conflict. The comparison reads the real `gsg registry show --json` output of a pushed copy of the
// bundled model (a temporary $GSG_HOME, no Docker).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bundledModelsDir, projectRoot } from '../../lib/paths.js';
import { newestVersionDir, readMetadata, type ModelMetadata } from '../../models/artifact.js';
import { sameFiles } from '../../infra/stack/stack.js';

const GSG = join(projectRoot(), 'bin', 'gsg.mjs');

let tmp: string;
let metadata: ModelMetadata;
let shown: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gsg-stack-push-'));
  const dir = (await newestVersionDir(bundledModelsDir()))!;
  metadata = await readMetadata(dir);
  const env = { ...process.env, GSG_HOME: tmp, GSG_REGISTRY: '', LOG_LEVEL: 'silent' };
  const run = (...args: string[]) => promisify(execFile)(process.execPath, [GSG, 'registry', ...args], { env });
  await run('push', dir);
  shown = (await run('show', `${metadata.model_name}@${metadata.version}`, '--json')).stdout;
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

it('the version the registry shows has the same files as the directory pushed', () => {
  expect(sameFiles(shown, metadata.files)).toBe(true);
  // Order of the listing does not matter.
  expect(sameFiles(shown, Object.fromEntries(Object.entries(metadata.files).reverse()))).toBe(true);
});

it('a file with another hash or size, or one more or fewer file, is other content', () => {
  const [name, entry] = Object.entries(metadata.files)[0]!;
  expect(sameFiles(shown, { ...metadata.files, [name]: { ...entry, sha256: 'f'.repeat(64) } })).toBe(false);
  expect(sameFiles(shown, { ...metadata.files, [name]: { ...entry, size: entry.size + 1 } })).toBe(false);
  expect(sameFiles(shown, { ...metadata.files, 'extra.bin': entry })).toBe(false);
  const { [name]: _dropped, ...fewer } = metadata.files;
  expect(sameFiles(shown, fewer)).toBe(false);
});
