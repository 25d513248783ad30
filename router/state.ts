// RouterState: both colors' upstream (url, version) and weight plus a generation number — the zod schema,
// the rules a state must obey, and the file store that persists it atomically (temp file + rename).
import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from '../lib/json-file.js';
import { VersionString } from '../models/artifact.js';
import { Color } from '../infra/runtime.js';
import { InvalidChangeError } from './errors.js';

export const COLORS = ['blue', 'green'] as const satisfies readonly Color[];

export const UpstreamUrl = z
  .string()
  .refine((s) => URL.canParse(s) && new URL(s).protocol === 'http:', 'must be an http:// URL (e.g. http://127.0.0.1:8081)')
  .transform((s) => s.replace(/\/+$/, ''));

/** What an upstream is: where it answers and which model version it serves. */
export const Upstream = z.strictObject({ url: UpstreamUrl, version: VersionString });
export type Upstream = z.infer<typeof Upstream>;

export const Weight = z.number().int('must be an integer').min(0, 'must be 0-100').max(100, 'must be 0-100');
export const Weights = z.strictObject({ blue: Weight, green: Weight }).refine((w) => w.blue + w.green === 100, {
  message: 'blue + green must sum to 100',
});
export type Weights = z.infer<typeof Weights>;

const ColorState = z.strictObject({ url: UpstreamUrl.nullable(), version: VersionString.nullable(), weight: Weight });
export type ColorState = z.infer<typeof ColorState>;

export const RouterState = z.strictObject({
  schema_version: z.literal(1),
  generation: z.number().int().nonnegative(),
  blue: ColorState,
  green: ColorState,
  updated_at: z.iso.datetime({ offset: true }),
});
export type RouterState = z.infer<typeof RouterState>;

export function initialRouterState(): RouterState {
  return {
    schema_version: 1,
    generation: 0,
    blue: { url: null, version: null, weight: 100 },
    green: { url: null, version: null, weight: 0 },
    updated_at: new Date(0).toISOString(),
  };
}

/**
 * The invariant every write must keep: a color that gets traffic has an upstream. Only what a change breaks is
 * refused, so a fresh state (blue weighted, no upstreams yet) can still receive its first upstream for green.
 */
export function assertWeightedColorsHaveUpstreams(next: Pick<RouterState, Color>, before: Pick<RouterState, Color>): void {
  for (const color of COLORS) {
    const unchanged = before[color].url === null && before[color].weight === next[color].weight;
    if (next[color].weight > 0 && next[color].url === null && !unchanged) {
      throw new InvalidChangeError(`${color}: weight ${next[color].weight} but no upstream (PUT /admin/upstreams/${color} first)`, { color });
    }
  }
}

/** Where the state lives between router restarts. */
export interface RouterStateStore {
  /** The saved state, or undefined when none was saved yet. Throws BadInputError naming the file and field when it is invalid. */
  load(): Promise<RouterState | undefined>;
  save(state: RouterState): Promise<void>;
  readonly location: string;
}

export function memoryStateStore(initial?: RouterState): RouterStateStore {
  let saved = initial;
  return {
    location: 'memory',
    load: async () => saved,
    save: async (state) => {
      saved = state;
    },
  };
}

/** JSON file store; a write goes to a temp file in the same directory, is fsynced, then renamed over the file. */
export function fileStateStore(path: string): RouterStateStore {
  return {
    location: path,
    load: () => readJsonFile(path, RouterState),
    save: (state) => writeJsonAtomic(path, state),
  };
}

/** What `GET /admin/state` and the in-process `getState()` return: the persisted state plus live readiness. */
const ColorView = z.object({ url: z.string().nullable(), version: z.string().nullable(), weight: z.number(), ready: z.boolean() });
export const RouterStateView = z.object({ generation: z.number(), blue: ColorView, green: ColorView, updated_at: z.string() });
export type RouterStateView = z.infer<typeof RouterStateView>;
