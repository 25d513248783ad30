// Load through a router or model server for the tests: keep-alive clients sending single-text POST /predict,
// counting answers by the color that served them (x-served-by).
import { Agent, request, type IncomingHttpHeaders } from 'node:http';

export interface LoadResult {
  ok: number;
  /** Every answer that was not 200 (or failed `inspect`), and every request error, as "<status>: <detail>" / "error: <message>". */
  failures: string[];
  served: Record<string, number>;
}

export interface LoadOptions {
  connections?: number;
  /** Stop after this many requests (default: run until stop()). */
  total?: number;
  /** Pause of each client between its requests, ms (default: none, back to back). */
  pauseMs?: number;
  /** Extra check of a 200 answer; a returned string counts as a failure. */
  inspect?: (answer: { headers: IncomingHttpHeaders; body: string }) => string | undefined;
}

export interface Load {
  /** The counts so far (final once `done` resolves). */
  result: LoadResult;
  /** Resolves when every client has stopped: after stop() or `total` requests. */
  done: Promise<LoadResult>;
  stop(): Promise<LoadResult>;
}

/**
 * Load through keep-alive connections: `connections` clients (default 16) sending single-text POST /predict back to
 * back (or `pauseMs` apart) until stop() or `total` requests, counting answers by x-served-by.
 */
export function startLoad(base: string, opts: LoadOptions = {}): Load {
  const connections = opts.connections ?? 16;
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const result: LoadResult = { ok: 0, failures: [], served: {} };
  const body = JSON.stringify({ texts: ['Las máquinas están bien pero el vestuario está sucio'] });
  let running = true;
  let left = opts.total ?? Infinity;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request(`${base}/predict`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const color = String(res.headers['x-served-by'] ?? 'none');
          result.served[color] = (result.served[color] ?? 0) + 1;
          const text = Buffer.concat(chunks).toString('utf8');
          const problem = res.statusCode === 200 ? opts.inspect?.({ headers: res.headers, body: text }) : `${res.statusCode}: ${text.slice(0, 200)}`;
          if (problem === undefined) result.ok++;
          else result.failures.push(problem);
          resolve();
        });
        res.on('error', (err) => {
          result.failures.push(`error: ${err.message}`);
          resolve();
        });
      });
      req.on('error', (err) => {
        result.failures.push(`error: ${err.message}`);
        resolve();
      });
      req.end(body);
    });
  const worker = async () => {
    while (running && left-- > 0) {
      await one();
      if (opts.pauseMs && running) await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  };
  const done = Promise.all(Array.from({ length: connections }, worker)).then(() => {
    agent.destroy();
    return result;
  });
  return {
    result,
    done,
    stop: () => {
      running = false;
      return done;
    },
  };
}
