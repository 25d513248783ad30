// Prometheus file-based service discovery of the model servers: the targets.json the platform rewrites whenever a
// server starts or stops (one target group per server, labelled with its color and version), which Prometheus reads
// from its targets directory (`targets/*.json` next to prometheus.yml, /etc/prometheus/targets in the image).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BadInputError } from '../../lib/errors.js';
import { writeJsonAtomic } from '../../lib/json-file.js';
import { platformDir } from '../../lib/paths.js';
import { formatZodError } from '../../lib/zod-errors.js';
import { Color, type Instance } from '../runtime.js';

export const MODEL_SERVER_JOB = 'model-server';
export const TARGETS_FILE = 'targets.json';

/** A scrape address, `host:port`. */
export const HostPort = z.string().regex(/^[A-Za-z0-9._-]+:\d{1,5}$/, 'expected host:port');
const LabelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'expected a Prometheus label name');

/** One scrape target group: `{"targets":["host:port"],"labels":{"color":"blue","model_version":"…","job":"model-server"}}`. */
export const TargetGroup = z.object({
  targets: z.array(HostPort).min(1),
  labels: z
    .object({ color: Color, model_version: z.string().min(1), job: z.literal(MODEL_SERVER_JOB) })
    .catchall(z.string())
    .superRefine((labels, ctx) => {
      for (const name of Object.keys(labels)) {
        if (!LabelName.safeParse(name).success) ctx.addIssue({ code: 'custom', path: [name], message: 'not a valid Prometheus label name' });
      }
    }),
});
export type TargetGroup = z.infer<typeof TargetGroup>;
export const TargetsFile = z.array(TargetGroup);

/** Where the platform writes targets.json: `$GSG_TARGETS_DIR`, else `$GSG_HOME/platform/targets`. */
export function targetsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.GSG_TARGETS_DIR ?? join(platformDir(env), 'targets');
}

/** The target groups for the running model servers (their `metricsTarget`, color and version). */
export function targetGroupsFor(instances: readonly Pick<Instance, 'color' | 'version' | 'metricsTarget'>[]): TargetGroup[] {
  return instances.map((i) => ({ targets: [i.metricsTarget], labels: { color: i.color, model_version: i.version, job: MODEL_SERVER_JOB } }));
}

function validate(groups: unknown, where: string): TargetGroup[] {
  const parsed = TargetsFile.safeParse(groups);
  if (!parsed.success) throw new BadInputError(`${where}: ${formatZodError(parsed.error)}`, { file: where });
  return parsed.data;
}

/**
 * Replaces `<dir>/targets.json` atomically (writeJsonAtomic: its temporary name ends in `.tmp`, so Prometheus'
 * `*.json` never sees a half-written file). Mode 644: Prometheus reads it as another user. Returns the file's path.
 */
export async function writeTargetsFile(dir: string, groups: readonly TargetGroup[]): Promise<string> {
  const file = join(dir, TARGETS_FILE);
  await writeJsonAtomic(file, validate(groups, file), 0o644);
  return file;
}

/** Reads and validates `<dir>/targets.json`; a missing file is no targets. */
export async function readTargetsFile(dir: string): Promise<TargetGroup[]> {
  const file = join(dir, TARGETS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BadInputError(`${file}: not JSON (${(err as Error).message})`, { file });
  }
  return validate(json, file);
}
