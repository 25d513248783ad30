// `gsg train`: trains the model on a data directory and writes a new version directory atomically, printing
// progress per stage (stderr) and the val metrics (stdout).
import { z } from 'zod';
import { VersionString } from '../../../models/artifact.js';
import { trainModel } from '../../../models/training/pipeline.js';
import { formatMetricsTable } from './evaluate.js';
import { parseOptions } from '../options.js';

const Options = z.object({
  data: z.string().min(1),
  out: z.string().min(1),
  modelVersion: VersionString.optional(),
  quiet: z.boolean().optional(),
});

export async function run(opts: Record<string, unknown>): Promise<number> {
  const o = parseOptions(Options, opts);
  const result = await trainModel({
    dataDir: o.data,
    outDir: o.out,
    version: o.modelVersion,
    progress: o.quiet ? undefined : (e) => process.stderr.write(`[${e.stage}] ${e.message} (${e.seconds.toFixed(2)}s)\n`),
  });
  const m = result.metadata;
  process.stdout.write(`${m.model_name} ${m.version} -> ${result.dir}\ntrained in ${m.training_time_seconds.toFixed(2)}s\n\nval metrics:\n${formatMetricsTable(m.metrics.val)}`);
  return 0;
}
