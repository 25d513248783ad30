// The Runtime contract: how a model version becomes a running server of a color (as a local process or a container).
import { z } from 'zod';

export const Color = z.enum(['blue', 'green']);
export type Color = z.infer<typeof Color>;
export const otherColor = (c: Color): Color => (c === 'blue' ? 'green' : 'blue');

export type RuntimeKind = 'process' | 'docker';

export interface StartSpec {
  color: Color;
  modelName: string;
  version: string;
  /** Verified local model directory (from the registry cache). */
  modelDir: string;
  /** Extra environment for the server (e.g. GSG_FAULT_* for release-pipeline tests). */
  env?: Record<string, string>;
}

export const Instance = z.object({
  id: z.string(),
  runtime: z.enum(['process', 'docker']),
  color: Color,
  modelName: z.string(),
  version: z.string(),
  /** Where the router reaches the server. */
  url: z.string(),
  /** host:port Prometheus scrapes for this server's /metrics. */
  metricsTarget: z.string(),
  /** Create-to-first-200-on-/ready, seconds. */
  coldStartSeconds: z.number(),
  startedAt: z.string(),
});
export type Instance = z.infer<typeof Instance>;

export interface Runtime {
  readonly kind: RuntimeKind;
  /** Starts the version as the color and resolves once its /ready answers 200 (cold start measured). */
  start(spec: StartSpec): Promise<Instance>;
  /** Graceful stop: SIGTERM (process) or `docker stop` with the grace period, so in-flight requests drain. */
  stop(id: string, opts?: { graceMs?: number }): Promise<void>;
  /** What runs now, including instances adopted from a previous owner after a restart. */
  list(): Promise<Instance[]>;
  /** Stops everything this runtime started. */
  close(): Promise<void>;
}
