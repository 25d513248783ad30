// Mixed client traffic through a router, the kind every dashboard panel needs to show something: single and batch
// predictions, explanations, and requests the model servers reject with a 4xx. Bounded: it stops after `maxSeconds`
// even if nobody calls stop(). A 5xx or a connection error is unexpected and recorded.
import { Agent, request } from 'node:http';

const TEXTS = [
  'el gimnasio está genial y el personal es muy amable',
  'las máquinas siempre rotas y el vestuario sucio',
  'buen precio, muchas clases y buen ambiente',
  'horrible, no vuelvo nunca, cobran de más',
  'monitores atentos pero las duchas frías',
];

/** One request of the mix: method/path/body and the status it must get. */
interface Shot {
  path: string;
  body: unknown;
  expect: number;
}

/** The cycle the loops go through: 4 singles, 2 batches, 1 explain, 1 bad request (422), 1 oversize text (400). */
export const MIX: Shot[] = [
  ...[0, 1, 2, 3].map((i) => ({ path: '/predict', body: { texts: [TEXTS[i]] }, expect: 200 })),
  { path: '/predict', body: { texts: TEXTS }, expect: 200 },
  { path: '/predict', body: { texts: [TEXTS[4], TEXTS[1], TEXTS[0]] }, expect: 200 },
  { path: '/predict/explain', body: { texts: [TEXTS[1]], top_k: 3 }, expect: 200 },
  { path: '/predict', body: { texts: [] }, expect: 422 },
  { path: '/predict', body: { texts: ['x'.repeat(6000)] }, expect: 400 },
];

export interface TrafficResult {
  /** Answers by status code. */
  byStatus: Record<number, number>;
  /** Answers whose status differs from the one expected, and connection errors. */
  unexpected: string[];
}

export interface Traffic {
  total(): number;
  stop(): Promise<TrafficResult>;
}

export function startTraffic(url: string, opts: { concurrency?: number; pauseMs?: number; maxSeconds?: number } = {}): Traffic {
  const concurrency = opts.concurrency ?? 2;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const { hostname, port } = new URL(url);
  const until = Date.now() + (opts.maxSeconds ?? 600) * 1000;
  let running = true;
  const byStatus: Record<number, number> = {};
  const unexpected: string[] = [];
  const send = (shot: Shot) =>
    new Promise<void>((resolve) => {
      const body = JSON.stringify(shot.body);
      const req = request({ hostname, port, path: shot.path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          byStatus[status] = (byStatus[status] ?? 0) + 1;
          if (status !== shot.expect) unexpected.push(`${shot.path} -> ${status} (expected ${shot.expect}): ${text.slice(0, 160)}`);
          resolve();
        });
      });
      req.on('error', (err) => {
        unexpected.push(`${shot.path} -> ${err.message}`);
        resolve();
      });
      req.end(body);
    });
  const loops = Array.from({ length: concurrency }, async (_, k) => {
    for (let i = k; running && Date.now() < until; i++) {
      await send(MIX[i % MIX.length]!);
      if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  });
  return {
    total: () => Object.values(byStatus).reduce((a, b) => a + b, 0) + unexpected.filter((u) => !/-> \d/.test(u)).length,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return { byStatus, unexpected };
    },
  };
}
