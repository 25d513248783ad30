// Alias documents: one object per (model, alias) holding the current target and the full history of moves, so a
// move (target + history entry) is a single compare-and-swap write and "what was live at time T" is a lookup.
import { z } from 'zod';
import { ModelName, VersionString } from '../models/artifact.js';

/** Aliases follow the model-name rule. */
export const AliasName = ModelName;

export const AliasMove = z.object({
  alias: AliasName,
  from: VersionString.nullable(),
  to: VersionString,
  at: z.iso.datetime({ offset: true }),
  actor: z.string(),
  reason: z.string().optional(),
});
export type AliasMove = z.infer<typeof AliasMove>;

export const AliasDoc = z.object({
  schema_version: z.literal(1),
  name: ModelName,
  alias: AliasName,
  version: VersionString,
  history: z.array(AliasMove).min(1),
});
export type AliasDoc = z.infer<typeof AliasDoc>;

/** The version `alias` pointed at, at time `at`, from its history (undefined: not set yet then). */
export function versionAt(history: readonly AliasMove[], at: Date): string | undefined {
  let version: string | undefined;
  for (const move of history) {
    if (Date.parse(move.at) > at.getTime()) break;
    version = move.to;
  }
  return version;
}
