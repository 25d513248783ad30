// Model-server configuration: one zod schema over the environment (PORT, HOST, GSG_MODEL, LOG_LEVEL, GSG_GRACE_MS,
// GSG_BODY_LIMIT_BYTES, GSG_BATCH_MAX_TEXTS, GSG_FAULT_*), so a bad value stops the server with one line naming it.
import { z } from 'zod';
import { BadInputError } from '../../../lib/errors.js';
import { LOG_LEVELS } from '../../../lib/log.js';
import { formatZodError } from '../../../lib/zod-errors.js';

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** A number from an environment string (or a number), within [min, max]; messages quote what was given. */
const envNumber = (opts: { min: number; max: number; fallback: number; integer: boolean; range: string }) =>
  z.preprocess(blankToUndefined, z.union([z.string(), z.number()]).optional()).transform((v, ctx) => {
    if (v === undefined) return opts.fallback;
    const n = typeof v === 'number' ? v : /^\s*-?(\d+\.?\d*|\.\d+)(e-?\d+)?\s*$/i.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n))) {
      ctx.addIssue({ code: 'custom', message: `must be ${opts.integer ? 'an integer' : 'a number'} (got ${JSON.stringify(v)})` });
      return z.NEVER;
    }
    if (n < opts.min || n > opts.max) {
      ctx.addIssue({ code: 'custom', message: `must be ${opts.range} (got ${JSON.stringify(v)})` });
      return z.NEVER;
    }
    return n;
  });
const envInt = (min: number, max: number, fallback: number) => envNumber({ min, max, fallback, integer: true, range: `an integer from ${min} to ${max}` });

const envBool = z.preprocess(
  blankToUndefined,
  z
    .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'], { error: (i) => `must be one of 1, 0, true, false, yes, no, on, off (got ${JSON.stringify(i.input)})` })
    .default('0')
    .transform((v) => v === '1' || v === 'true' || v === 'yes' || v === 'on'),
);

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
/**
 * In-flight request bytes before back-pressure. The servers run with a capped V8 heap (SERVER_NODE_FLAGS), and a
 * request's text costs several times its bytes while it is parsed, tokenised and answered: 8 MiB of bodies in flight
 * stays well inside it, and is ~400 concurrent batch-of-100 requests of typical reviews.
 */
export const DEFAULT_MAX_INFLIGHT_BYTES = 8 * 1024 * 1024;

/** The environment a model server reads (every other variable is ignored). */
export const ServerEnv = z.object({
  GSG_MODEL: z.preprocess(blankToUndefined, z.string({ error: 'is required: the model version directory to serve' })),
  PORT: envInt(0, 65_535, 8080),
  HOST: z.preprocess(blankToUndefined, z.string().default('0.0.0.0')),
  LOG_LEVEL: z.preprocess(blankToUndefined, z.enum(LOG_LEVELS, { error: (i) => `must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(i.input)})` }).default('info')),
  /** How long a SIGTERM/SIGINT waits for in-flight requests before closing the remaining connections. */
  GSG_GRACE_MS: envInt(0, 3_600_000, 10_000),
  /** Largest request body accepted (413 above it, checked from content-length and while reading). */
  GSG_BODY_LIMIT_BYTES: envInt(1024, 64 * 1024 * 1024, DEFAULT_BODY_LIMIT_BYTES),
  /** Most texts coalesced into one ONNX run from concurrent requests (0 = one run per request). */
  GSG_BATCH_MAX_TEXTS: envInt(0, 10_000, 128),
  /** Request bytes (declared body sizes) the server holds at once; above it predictions get 503 + Retry-After. */
  GSG_MAX_INFLIGHT_BYTES: envInt(64 * 1024, 1024 * 1024 * 1024, DEFAULT_MAX_INFLIGHT_BYTES),
  GSG_FAULT_ERROR_RATE: envNumber({ min: 0, max: 1, fallback: 0, integer: false, range: 'between 0 and 1' }),
  GSG_FAULT_LATENCY_MS: envInt(0, 600_000, 0),
  GSG_FAULT_FLIP: envBool,
});
export type ServerEnv = z.infer<typeof ServerEnv>;

export interface FaultConfig {
  /** Share of prediction requests answered 500 {"detail":"injected fault"}. */
  errorRate: number;
  /** Delay added to every prediction request. */
  latencyMs: number;
  /** Inverted labels: P(negative) and P(positive) swapped. */
  flip: boolean;
}

export interface ServerConfig {
  modelDir: string;
  port: number;
  host: string;
  logLevel: (typeof LOG_LEVELS)[number];
  graceMs: number;
  bodyLimitBytes: number;
  batchMaxTexts: number;
  maxInflightBytes: number;
  faults: FaultConfig;
}

export function configFromEnv(env: ServerEnv): ServerConfig {
  return {
    modelDir: env.GSG_MODEL,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    graceMs: env.GSG_GRACE_MS,
    bodyLimitBytes: env.GSG_BODY_LIMIT_BYTES,
    batchMaxTexts: env.GSG_BATCH_MAX_TEXTS,
    maxInflightBytes: Math.max(env.GSG_MAX_INFLIGHT_BYTES, env.GSG_BODY_LIMIT_BYTES),
    faults: { errorRate: env.GSG_FAULT_ERROR_RATE, latencyMs: env.GSG_FAULT_LATENCY_MS, flip: env.GSG_FAULT_FLIP },
  };
}

/**
 * Reads the server configuration from environment variables (with `overrides` taking precedence, e.g. from
 * `gsg serve` flags). Throws BadInputError naming the first bad variable.
 */
export function loadServerConfig(env: NodeJS.ProcessEnv | Record<string, string | undefined>, overrides: Record<string, string | undefined> = {}): ServerConfig {
  const merged: Record<string, string | undefined> = { ...env };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) merged[k] = v;
  const parsed = ServerEnv.safeParse(merged);
  if (!parsed.success) throw new BadInputError(`invalid configuration: ${formatZodError(parsed.error)}`);
  return configFromEnv(parsed.data);
}
