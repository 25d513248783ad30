// The model registry: immutable versions (content-addressed blobs + a manifest committed last), refs, verified pulls
// into a content-hash cache, and aliases moved by compare-and-swap with their history. Works over any RegistryStore.
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import { BadInputError } from '../lib/errors.js';
import { parseJsonText } from '../lib/json-file.js';
import { gsgHome } from '../lib/paths.js';
import type { Logger } from '../lib/log.js';
import { formatZodError } from '../lib/zod-errors.js';
import { ModelName, VersionString, checkListedFiles, readMetadata, type ModelMetadata } from '../models/artifact.js';
import { AliasDoc, AliasName, versionAt, type AliasMove } from './aliases.js';
import { ConflictError, IntegrityError, NotFoundError, PreconditionFailedError } from './errors.js';
import { createFsStore } from './fs-store.js';
import { Manifest, manifestDigest, parseManifest, scanFiles, type FileEntry } from './manifest.js';
import { formatRef, parseRef } from './refs.js';
import { ABSENT, parseStoreUrl, type RegistryStore } from './store.js';
import { forEachLimited, removeStalePartials, transferVerified } from './transfer.js';
import { defaultActor } from '../lib/actor.js';

/** A version a ref resolved to. `source: 'directory'` for a plain directory ref (its manifest is computed). */
export interface ResolvedVersion {
  ref: string;
  name: string;
  version: string;
  /** The alias the ref went through, if any. */
  alias?: string;
  digest: string;
  manifest: Manifest;
  metadata: ModelMetadata;
  source: 'registry' | 'directory';
}

export interface MaterializedVersion extends ResolvedVersion {
  /** Verified local directory with the version's files. */
  dir: string;
  /** True when the cache already held it (nothing was downloaded). */
  cached: boolean;
}

export interface VersionSummary {
  name: string;
  version: string;
  digest: string;
  manifest: Manifest;
  aliases: string[];
}

export interface AliasOptions {
  /** Fail unless the alias points here now (`null`: unless it is unset). */
  expect?: string | null;
  actor?: string;
  reason?: string;
}

export interface Registry {
  readonly url: string;
  readonly cacheDir: string;
  push(dir: string, opts?: { name?: string; actor?: string }): Promise<ResolvedVersion>;
  listModels(): Promise<string[]>;
  listVersions(name: string): Promise<VersionSummary[]>;
  resolve(ref: string): Promise<ResolvedVersion>;
  pull(ref: string, dest: string): Promise<ResolvedVersion & { dir: string }>;
  materialize(ref: string): Promise<MaterializedVersion>;
  aliases(name: string): Promise<Record<string, string>>;
  /** Compare-and-swap move; appends to history. Returns the move, or `undefined` when the alias already pointed there. */
  setAlias(name: string, alias: string, version: string, opts?: AliasOptions): Promise<AliasMove | undefined>;
  /** Moves of one alias, or of every alias of the model, oldest first. */
  aliasHistory(name: string, alias?: string): Promise<AliasMove[]>;
  /** The version `alias` pointed at at time `at` (undefined: it was not set yet). */
  aliasAt(name: string, alias: string, at: Date): Promise<string | undefined>;
}

export interface RegistryOptions {
  /** Where verified pulls are cached by content digest (`$GSG_HOME/cache`). */
  cacheDir: string;
  logger?: Logger;
  now?: () => Date;
}

const manifestKey = (name: string, version: string) => `models/${name}/versions/${version}.json`;
const aliasKey = (name: string, alias: string) => `models/${name}/aliases/${alias}.json`;
/** A cache download this old was left by a killed process (a live one renames or removes its own well before). */
const STALE_PARTIAL_MS = 10 * 60_000;

export const blobKey = (sha256: string) => `blobs/sha256/${sha256}`;
const jsonBytes = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);

function validated<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new BadInputError(`${what}: ${formatZodError(r.error).replace(/^\(root\): /, '')}`, { [what]: value });
  return r.data;
}

export { defaultActor };

/**
 * A version directory's validated metadata and every file's size and sha256, each file hashed once: the scan is
 * checked against the files the metadata lists (as `loadModelArtifact` checks them) and becomes the manifest's list.
 */
async function scanArtifact(dir: string): Promise<{ metadata: ModelMetadata; files: Record<string, FileEntry> }> {
  const metadata = await readMetadata(dir);
  const files = await scanFiles(dir);
  checkListedFiles(dir, metadata, files);
  return { metadata, files };
}

export function createRegistry(store: RegistryStore, opts: RegistryOptions): Registry {
  const now = opts.now ?? (() => new Date());
  const log = opts.logger;

  async function readManifest(name: string, version: string): Promise<Manifest | undefined> {
    const key = manifestKey(name, version);
    const obj = await store.read(key);
    if (!obj) return undefined;
    const manifest = parseManifest(obj.data, `${store.url}/${key}`);
    if (manifest.name !== name || manifest.version !== version) throw new IntegrityError(`${store.url}/${key}: manifest is for ${formatRef(manifest.name, manifest.version)}`, { key });
    return manifest;
  }

  async function readAlias(name: string, alias: string): Promise<{ doc: AliasDoc; generation: string } | undefined> {
    const key = aliasKey(name, alias);
    const obj = await store.read(key);
    if (!obj) return undefined;
    const where = `${store.url}/${key}`;
    const doc = parseJsonText(obj.data.toString('utf8'), AliasDoc, where, (message, syntaxError) => new IntegrityError(syntaxError ? `${where}: not valid JSON` : message, { key }));
    return { doc, generation: obj.generation };
  }

  const keysUnder = async (prefix: string) => (await store.list(prefix)).filter((k) => k.endsWith('.json')).map((k) => k.slice(prefix.length, -'.json'.length)).filter((k) => !k.includes('/'));
  const versionsOf = (name: string) => keysUnder(`models/${name}/versions/`);
  const aliasNamesOf = (name: string) => keysUnder(`models/${name}/aliases/`);

  async function aliases(name: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const alias of await aliasNamesOf(name)) {
      const a = await readAlias(name, alias);
      if (a) out[alias] = a.doc.version;
    }
    return out;
  }

  /** NotFoundError for `ref`, listing what does exist. */
  async function notFound(name: string, ref: string): Promise<NotFoundError> {
    const versions = await versionsOf(name);
    if (versions.length === 0) {
      const models = await listModels();
      return new NotFoundError(`${ref}: no model "${name}" in ${store.url} (models: ${models.join(', ') || 'none'})`, { ref, models });
    }
    const al = await aliases(name);
    const aliasList = Object.entries(al).map(([a, v]) => `${a} -> ${v}`);
    return new NotFoundError(`${ref}: not found in ${store.url} (versions: ${versions.join(', ')}; aliases: ${aliasList.join(', ') || 'none'})`, { ref, versions, aliases: al });
  }

  async function listModels(): Promise<string[]> {
    const names = new Set<string>();
    for (const key of await store.list('models/')) {
      const m = /^models\/([^/]+)\/versions\/[^/]+\.json$/.exec(key);
      if (m) names.add(m[1]!);
    }
    return [...names].sort();
  }

  async function resolveDir(ref: string, path: string): Promise<ResolvedVersion & { dir: string }> {
    const dir = resolve(path);
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new BadInputError(`${path}: not a model directory (nor a name@version / name:alias ref)`, { ref });
    const { metadata, files } = await scanArtifact(dir);
    const manifest: Manifest = { schema_version: 1, name: metadata.model_name, version: metadata.version, pushed_at: metadata.created_at, pushed_by: '(local directory)', files, metadata };
    return { ref, name: metadata.model_name, version: metadata.version, digest: manifestDigest(files), manifest, metadata, source: 'directory', dir };
  }

  async function resolveRef(ref: string): Promise<ResolvedVersion & { dir?: string }> {
    const parsed = parseRef(ref);
    if (parsed.kind === 'dir') return resolveDir(ref, parsed.path);
    let version: string;
    let alias: string | undefined;
    if (parsed.kind === 'alias') {
      const a = await readAlias(parsed.name, parsed.alias);
      if (!a) throw await notFound(parsed.name, ref);
      version = a.doc.version;
      alias = parsed.alias;
    } else version = parsed.version;
    const manifest = await readManifest(parsed.name, version);
    if (!manifest) throw await notFound(parsed.name, ref);
    return { ref, name: parsed.name, version, ...(alias ? { alias } : {}), digest: manifestDigest(manifest.files), manifest, metadata: manifest.metadata, source: 'registry' };
  }

  /** Where a resolved version's file bytes come from: the store's blobs, or the directory itself. */
  const opener = (r: ResolvedVersion & { dir?: string }) => async (rel: string, entry: FileEntry): Promise<Readable> =>
    r.dir ? createReadStream(join(r.dir, ...rel.split('/'))) : store.openRead(blobKey(entry.sha256));

  const strip = <T extends { dir?: string }>(r: T): Omit<T, 'dir'> => {
    const { dir: _dir, ...rest } = r;
    return rest;
  };

  /** Cheap check of a cache entry: every file present with its manifest size (it was fully verified when written). */
  async function cacheIntact(dir: string, files: Record<string, FileEntry>): Promise<boolean> {
    for (const [rel, entry] of Object.entries(files)) {
      const st = await stat(join(dir, ...rel.split('/'))).catch(() => undefined);
      if (!st?.isFile() || st.size !== entry.size) return false;
    }
    return true;
  }

  return {
    url: store.url,
    cacheDir: opts.cacheDir,

    async push(dir, popts = {}) {
      const abs = resolve(dir);
      const st = await stat(abs).catch(() => undefined);
      if (!st?.isDirectory()) throw new BadInputError(`${dir}: not a directory`, { dir });
      // Validates metadata.json (naming the bad field) and that every file it lists matches, before the conflict check.
      const { metadata, files } = await scanArtifact(abs);
      const name = popts.name === undefined ? metadata.model_name : validated(ModelName, popts.name, '--name');
      const version = metadata.version;
      const ref = formatRef(name, version);
      const key = manifestKey(name, version);
      const exists = () => new ConflictError(`${ref} already exists in ${store.url} (versions are immutable: train a new version)`, { ref });
      if (await store.exists(key)) throw exists();
      // Blobs are content-addressed: a crashed or concurrent push only leaves (or rewrites) identical bytes.
      await forEachLimited(Object.keys(files), 4, async (rel) => {
        const blob = blobKey(files[rel]!.sha256);
        if (!(await store.exists(blob))) await store.write(blob, { path: join(abs, ...rel.split('/')) });
      });
      const manifest: Manifest = { schema_version: 1, name, version, pushed_at: now().toISOString(), pushed_by: popts.actor ?? defaultActor(), files, metadata };
      try {
        await store.write(key, jsonBytes(Manifest.parse(manifest)), { ifGenerationMatch: ABSENT });
      } catch (err) {
        if (err instanceof PreconditionFailedError) throw exists();
        throw err;
      }
      const digest = manifestDigest(files);
      log?.info({ event: 'registry.push', model_name: name, model_version: version, digest, registry: store.url }, `pushed ${ref}`);
      return { ref, name, version, digest, manifest, metadata, source: 'registry' };
    },

    listModels,

    async listVersions(name) {
      validated(ModelName, name, 'name');
      const [versions, al] = await Promise.all([versionsOf(name), aliases(name)]);
      const manifests = new Map<string, Manifest>();
      await forEachLimited(versions, 8, async (version) => {
        const manifest = await readManifest(name, version);
        if (manifest) manifests.set(version, manifest);
      });
      return versions
        .filter((v) => manifests.has(v))
        .map((version) => {
          const manifest = manifests.get(version)!;
          return { name, version, digest: manifestDigest(manifest.files), manifest, aliases: Object.keys(al).filter((a) => al[a] === version).sort() };
        });
    },

    async resolve(ref) {
      return strip(await resolveRef(ref));
    },

    async pull(ref, dest) {
      const r = await resolveRef(ref);
      const to = resolve(dest);
      await transferVerified(r.manifest.files, opener(r), to);
      log?.info({ event: 'registry.pull', model_name: r.name, model_version: r.version, digest: r.digest }, `pulled ${formatRef(r.name, r.version)}`);
      return { ...strip(r), dir: to };
    },

    async materialize(ref) {
      const r = await resolveRef(ref);
      if (r.dir) return { ...r, dir: r.dir, cached: true };
      const dir = join(opts.cacheDir, r.digest);
      let cached = await cacheIntact(dir, r.manifest.files);
      if (!cached) {
        await rm(dir, { recursive: true, force: true }); // a damaged entry (or none)
        await removeStalePartials(dir, STALE_PARTIAL_MS);
        await transferVerified(r.manifest.files, opener(r), dir, { existingIsFine: true });
      }
      log?.info({ event: 'registry.materialize', model_name: r.name, model_version: r.version, digest: r.digest, cached }, `materialized ${formatRef(r.name, r.version)}`);
      return { ...r, dir, cached };
    },

    aliases: (name) => aliases(validated(ModelName, name, 'name')),

    async setAlias(name, alias, version, aopts = {}) {
      validated(ModelName, name, 'name');
      validated(AliasName, alias, 'alias');
      validated(VersionString, version, 'version');
      if (aopts.expect) validated(VersionString, aopts.expect, '--expect');
      const target = formatRef(name, version);
      if (!(await readManifest(name, version))) throw await notFound(name, target);
      const key = aliasKey(name, alias);
      const current = await readAlias(name, alias);
      const from = current?.doc.version ?? null;
      if (aopts.expect !== undefined && aopts.expect !== from) {
        throw new ConflictError(`${name}:${alias} points at ${from ?? 'nothing'}, not ${aopts.expect ?? 'nothing'} (--expect)`, { alias, current: from, expected: aopts.expect });
      }
      if (from === version) return undefined;
      const move: AliasMove = { alias, from, to: version, at: now().toISOString(), actor: aopts.actor ?? defaultActor(), ...(aopts.reason ? { reason: aopts.reason } : {}) };
      const doc: AliasDoc = { schema_version: 1, name, alias, version, history: [...(current?.doc.history ?? []), move] };
      try {
        await store.write(key, jsonBytes(doc), { ifGenerationMatch: current?.generation ?? ABSENT });
      } catch (err) {
        if (!(err instanceof PreconditionFailedError)) throw err;
        const now = (await readAlias(name, alias))?.doc.version ?? null;
        throw new ConflictError(`${name}:${alias} was moved concurrently: it now points at ${now ?? 'nothing'} (was ${from ?? 'nothing'} when read); retry with --expect ${now ?? 'none'}`, { alias, current: now });
      }
      log?.info({ event: 'registry.alias_moved', model_name: name, alias, from, to: version, actor: move.actor }, `${name}:${alias} ${from ?? '(unset)'} -> ${version}`);
      return move;
    },

    async aliasHistory(name, alias) {
      validated(ModelName, name, 'name');
      const names = alias === undefined ? await aliasNamesOf(name) : [validated(AliasName, alias, 'alias')];
      const moves: AliasMove[] = [];
      for (const a of names) {
        const doc = await readAlias(name, a);
        if (!doc && alias !== undefined) throw await notFound(name, `${name}:${alias}`);
        moves.push(...(doc?.doc.history ?? []));
      }
      return moves.sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
    },

    async aliasAt(name, alias, at) {
      const doc = await readAlias(validated(ModelName, name, 'name'), validated(AliasName, alias, 'alias'));
      return doc ? versionAt(doc.doc.history, at) : undefined;
    },
  };
}

/** The registry named by `GSG_REGISTRY` (default `file://$GSG_HOME/registry`), caching pulls in `$GSG_HOME/cache`. */
export async function openRegistry(env: NodeJS.ProcessEnv = process.env, opts: { logger?: Logger } = {}): Promise<Registry> {
  const home = gsgHome(env);
  const url = env.GSG_REGISTRY || `file://${join(home, 'registry')}`;
  const loc = parseStoreUrl(url);
  const store =
    loc.kind === 'file'
      ? createFsStore(loc.root)
      : (await import('./gcs-store.js')).createGcsStore({ bucket: loc.bucket, prefix: loc.prefix, ...(env.GSG_GCS_ENDPOINT ? { apiEndpoint: env.GSG_GCS_ENDPOINT } : {}) });
  return createRegistry(store, { cacheDir: join(home, 'cache'), ...opts });
}
