// `gsg build <ref>`: resolves a model ref (directory, name@version, name:alias), builds its model-server image
// gsg-model-server:<name>-<version> with progress on stderr, records the build and prints the record.
import { z } from 'zod';
import { formatDuration } from '../../../lib/duration.js';
import { resolveModelDir } from '../../../registry/resolve-model.js';
import { buildRecordPath } from '../../images/build-record.js';
import { buildModelImage } from '../../images/build-image.js';
import { parseOptions } from '../options.js';

const Options = z.object({
  ref: z.string().min(1, 'a model ref is required'),
  baseImage: z.string().min(1).optional(),
  runtimeBaseImage: z.string().min(1).optional(),
  /** commander's --no-cache */
  cache: z.boolean().default(true),
  json: z.boolean().default(false),
});

export async function run(raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(Options, raw);
  const model = await resolveModelDir(opts.ref);
  const record = await buildModelImage(model.dir, {
    baseImage: opts.baseImage,
    runtimeBaseImage: opts.runtimeBaseImage,
    noCache: !opts.cache,
    onLine: (line) => process.stderr.write(`${line}\n`),
  });
  if (opts.json) {
    process.stdout.write(JSON.stringify(record) + '\n');
    return 0;
  }
  const rows: [string, string][] = [
    ['image', record.image],
    ['id', record.imageId],
    ['size', `${(record.sizeBytes / 1e6).toFixed(1)} MB (${record.sizeBytes} bytes)`],
    ['build time', record.reused ? `reused (no build: sources, model and base images unchanged)` : formatDuration(record.buildSeconds * 1000)],
    ['base images', `${record.baseImage} (build), ${record.runtimeBaseImage} (runtime)`],
    ['created', record.createdAt],
    ['revision', record.revision],
    ['record', buildRecordPath(record.modelName, record.version)],
  ];
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(12)}${v}\n`);
  return 0;
}
