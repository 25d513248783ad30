// Readiness of a starting model server: polls GET /ready briskly until it answers 200, failing early when the server
// died (process exited, container stopped) and naming the reason; reads the version a server reports. Also the
// runtimes' typed errors.
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { GsgError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { VersionString } from '../../models/artifact.js';

/** A model server did not start, died, or could not be stopped; context names the instance. */
export class RuntimeError extends GsgError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super(message, { code: 'runtime', context, cause });
  }
}

/** stop() of an id the runtime does not know. */
export class InstanceNotFoundError extends GsgError {
  constructor(id: string) {
    super(`no running instance ${id}`, { code: 'instance_not_found', context: { id }, exitCode: ExitCode.NotFound });
  }
}

/** Status code of GET <url>/ready, or undefined when nothing answers (refused, reset, timeout). */
export function readyStatus(url: string, timeoutMs = 1000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(`${url}/ready`, { method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** The model version a running server reports on GET <url>/model/info; throws naming what was wrong. */
export async function modelVersionAt(url: string): Promise<string> {
  const res = await fetch(`${url}/model/info`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET /model/info answered ${res.status}`);
  const version = VersionString.safeParse(((await res.json()) as { version?: unknown }).version);
  if (!version.success) throw new Error('GET /model/info has no valid "version"');
  return version.data;
}

export interface WaitReadyOptions {
  timeoutMs: number;
  intervalMs: number;
  /** Reason the server can no longer become ready (it exited), checked between polls. */
  died?: () => string | undefined | Promise<string | undefined>;
}

/** Resolves once GET <url>/ready answers 200; rejects with RuntimeError on death or timeout. */
export async function waitUntilReady(url: string, opts: WaitReadyOptions): Promise<void> {
  const deadline = performance.now() + opts.timeoutMs;
  let last: number | undefined;
  for (;;) {
    last = await readyStatus(url, Math.min(1000, opts.timeoutMs));
    if (last === 200) return;
    const reason = await opts.died?.();
    if (reason) throw new RuntimeError(reason, { url });
    if (performance.now() >= deadline) {
      throw new RuntimeError(`${url}/ready did not answer 200 within ${opts.timeoutMs} ms (last: ${last ?? 'no answer'})`, { url, last });
    }
    await sleep(opts.intervalMs);
  }
}
