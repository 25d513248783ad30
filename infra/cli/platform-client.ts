// HTTP client of the platform's admin API for the CLI (promote, rollback, status, history): the bearer token from
// GSG_ADMIN_TOKEN (or the one `gsg up` generated in $GSG_HOME/platform/admin-token), errors as one clear line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GsgError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { platformDir } from '../../lib/paths.js';

export class PlatformRequestError extends GsgError {
  constructor(message: string, readonly status: number | undefined, readonly body: Record<string, unknown> = {}) {
    super(message, { code: 'platform_request', context: { status }, exitCode: status === 401 || status === 403 ? ExitCode.Refused : status === 404 ? ExitCode.NotFound : status === 409 ? ExitCode.Conflict : status === 422 ? ExitCode.BadInput : ExitCode.Error });
  }
}

export function adminToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.GSG_ADMIN_TOKEN) return env.GSG_ADMIN_TOKEN;
  try {
    return readFileSync(join(platformDir(env), 'admin-token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface PlatformClient {
  readonly url: string;
  get<T>(path: string, opts?: { timeoutMs?: number }): Promise<T>;
  send<T>(method: 'POST' | 'PUT', path: string, body: unknown, opts?: { timeoutMs?: number }): Promise<T>;
}

export function platformClient(url: string, env: NodeJS.ProcessEnv = process.env): PlatformClient {
  const base = url.replace(/\/+$/, '');
  const token = adminToken(env);
  const call = async <T>(method: string, path: string, body: unknown, timeoutMs: number): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new PlatformRequestError(`no platform answers at ${base} (${cause}); is \`gsg up\` running? (--router URL)`, undefined);
    }
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { detail: text.slice(0, 200) };
    }
    if (!res.ok) {
      const detail = typeof parsed.detail === 'string' ? parsed.detail : `HTTP ${res.status}`;
      const hint = res.status === 401 ? ' (set GSG_ADMIN_TOKEN to the token `gsg up` printed)' : '';
      throw new PlatformRequestError(`${detail}${hint}`, res.status, parsed);
    }
    return parsed as T;
  };
  return {
    url: base,
    get: (path, opts) => call('GET', path, undefined, opts?.timeoutMs ?? 10_000),
    send: (method, path, body, opts) => call(method, path, body, opts?.timeoutMs ?? 60_000),
  };
}
