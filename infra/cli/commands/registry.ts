// `gsg registry push|list|show|pull|alias set|alias history`: the model registry from the command line
// (GSG_REGISTRY=file:///path | gs://bucket/prefix, default file://$GSG_HOME/registry).
import { z } from 'zod';
import { artifactSha256 } from '../../../models/artifact.js';
import { totalSize } from '../../../registry/manifest.js';
import { openRegistry, type Registry, type ResolvedVersion, type VersionSummary } from '../../../registry/registry.js';
import { parseOptions } from '../options.js';

const Options = z.discriminatedUnion('action', [
  z.object({ action: z.literal('push'), dir: z.string().min(1), name: z.string().optional() }),
  z.object({ action: z.literal('list'), name: z.string().optional(), json: z.boolean().optional() }),
  z.object({ action: z.literal('show'), ref: z.string().min(1), json: z.boolean().optional() }),
  z.object({ action: z.literal('pull'), ref: z.string().min(1), to: z.string().min(1) }),
  z.object({
    action: z.literal('alias-set'),
    name: z.string(),
    alias: z.string(),
    version: z.string(),
    expect: z.string().optional(),
    reason: z.string().optional(),
    actor: z.string().min(1).optional(),
  }),
  z.object({ action: z.literal('alias-history'), name: z.string(), alias: z.string().optional(), json: z.boolean().optional() }),
]);
type Options = z.infer<typeof Options>;

const out = (line = '') => process.stdout.write(`${line}\n`);

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

const keyValues = (pairs: [string, string][]) => {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
};

const when = (iso: string) => iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z');

function versionRow(v: VersionSummary) {
  const m = v.manifest;
  return {
    name: v.name,
    version: v.version,
    created_at: m.metadata.created_at,
    pushed_at: m.pushed_at,
    pushed_by: m.pushed_by,
    val_f1_neg: m.metadata.metrics.val.negative.f1,
    size_bytes: totalSize(m.files),
    sha256: artifactSha256(m.metadata),
    digest: v.digest,
    aliases: v.aliases,
  };
}

async function list(registry: Registry, o: Extract<Options, { action: 'list' }>) {
  const names = o.name ? [o.name] : await registry.listModels();
  const rows = (await Promise.all(names.map((n) => registry.listVersions(n)))).flat().map(versionRow);
  if (o.json) return out(JSON.stringify(rows, null, 2));
  if (rows.length === 0) return out(o.name ? `no versions of ${o.name} in ${registry.url}` : `no models in ${registry.url}`);
  const header = ['VERSION', 'CREATED', 'VAL F1_NEG', 'SIZE', 'SHA256', 'ALIASES'];
  const cells = (r: ReturnType<typeof versionRow>) => [r.version, when(r.created_at), r.val_f1_neg.toFixed(3), formatBytes(r.size_bytes), r.sha256.slice(0, 12), r.aliases.join(',')];
  out(o.name ? formatTable(header, rows.map(cells)) : formatTable(['NAME', ...header], rows.map((r) => [r.name, ...cells(r)])));
}

async function show(registry: Registry, o: Extract<Options, { action: 'show' }>) {
  const r: ResolvedVersion = await registry.resolve(o.ref);
  const al = r.source === 'registry' ? await registry.aliases(r.name) : {};
  const aliases = Object.keys(al).filter((a) => al[a] === r.version).sort();
  if (o.json) return out(JSON.stringify({ ref: o.ref, name: r.name, version: r.version, ...(r.alias ? { alias: r.alias } : {}), source: r.source, digest: r.digest, aliases, manifest: r.manifest }, null, 2));
  const m = r.manifest;
  const val = m.metadata.metrics.val;
  out(`${r.name}@${r.version}${r.alias ? `  (via ${r.name}:${r.alias})` : ''}${r.source === 'directory' ? '  (local directory)' : ''}`);
  out(keyValues([
    ['digest', r.digest],
    ['sha256', `${artifactSha256(m.metadata)} (model.onnx)`],
    ['created', m.metadata.created_at],
    ['pushed', `${m.pushed_at} by ${m.pushed_by}`],
    ['aliases', aliases.join(', ') || '-'],
    ['threshold', String(m.metadata.threshold)],
    ['val', `n=${val.n}  F1_neg=${val.negative.f1.toFixed(3)}  P_neg=${val.negative.precision.toFixed(3)}  R_neg=${val.negative.recall.toFixed(3)}  brier=${val.brier.toFixed(4)}  ece=${val.ece.toFixed(4)}`],
    ['size', formatBytes(totalSize(m.files))],
  ]));
  out('files:');
  out(formatTable(['  PATH', 'SIZE', 'SHA256'], Object.entries(m.files).sort(([a], [b]) => a.localeCompare(b)).map(([p, f]) => [`  ${p}`, formatBytes(f.size), f.sha256])));
}

async function aliasHistory(registry: Registry, o: Extract<Options, { action: 'alias-history' }>) {
  const moves = await registry.aliasHistory(o.name, o.alias);
  if (o.json) return out(JSON.stringify(moves, null, 2));
  if (moves.length === 0) return out(`no aliases of ${o.name} have moved yet`);
  out(formatTable(['WHEN', 'ALIAS', 'FROM', 'TO', 'WHO', 'REASON'], moves.map((m) => [m.at, m.alias, m.from ?? '-', m.to, m.actor, m.reason ?? ''])));
}

export async function run(raw: Record<string, unknown>): Promise<number> {
  const o = parseOptions(Options, raw);
  const registry = await openRegistry(process.env);
  switch (o.action) {
    case 'push': {
      const pushed = await registry.push(o.dir, { ...(o.name ? { name: o.name } : {}) });
      out(pushed.ref);
      break;
    }
    case 'list':
      await list(registry, o);
      break;
    case 'show':
      await show(registry, o);
      break;
    case 'pull': {
      const r = await registry.pull(o.ref, o.to);
      out(`pulled ${r.name}@${r.version} into ${r.dir} (${Object.keys(r.manifest.files).length} files, ${formatBytes(totalSize(r.manifest.files))}, all sha256 verified)`);
      break;
    }
    case 'alias-set': {
      const expect = o.expect === undefined ? undefined : o.expect === 'none' ? null : o.expect;
      const move = await registry.setAlias(o.name, o.alias, o.version, { ...(expect !== undefined ? { expect } : {}), ...(o.actor ? { actor: o.actor } : {}), ...(o.reason ? { reason: o.reason } : {}) });
      out(move ? `${o.name}:${o.alias}  ${move.from ?? '(unset)'} -> ${move.to}` : `${o.name}:${o.alias} already points at ${o.version} (nothing recorded)`);
      break;
    }
    case 'alias-history':
      await aliasHistory(registry, o);
      break;
  }
  return 0;
}
