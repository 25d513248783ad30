// Upstream health: a busy upstream that misses one probe deadline keeps its traffic; a second miss in a row, an
// explicit 503 (draining) or a refused connection takes it out of rotation.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log.js';
import { createUpstreamHealth, type UpstreamHealth } from '../../router/health.js';
import { until } from '../helpers/wait.js';

type Mode = 'ok' | 'hang' | 'draining';

async function upstream(): Promise<{ url: string; mode: { value: Mode }; probes: { hung: number }; server: Server }> {
  const mode = { value: 'ok' as Mode };
  const probes = { hung: 0 };
  const server = createServer((req, res) => {
    if (mode.value === 'hang') {
      probes.hung++; // never answered: the probe times out
      return;
    }
    res.writeHead(mode.value === 'ok' ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify(mode.value === 'ok' ? { status: 'ready', model_version: 'v1' } : { detail: 'draining' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, mode, probes, server };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('upstream health probes', () => {
  let health: UpstreamHealth | undefined;
  let server: Server | undefined;
  afterEach(() => {
    health?.close();
    server?.closeAllConnections();
    server?.close();
  });

  const start = async () => {
    const up = await upstream();
    server = up.server;
    health = createUpstreamHealth({ logger: createLogger({ name: 'test', level: 'silent' }), intervalMs: 300, timeoutMs: 60 });
    await health.watch('blue', { url: up.url, version: 'v1' });
    expect(health.ready.blue).toBe(true);
    return up;
  };

  it('keeps a ready color in rotation when one probe goes unanswered', async () => {
    const up = await start();
    up.mode.value = 'hang';
    await until(() => up.probes.hung === 1, 'one unanswered probe');
    await sleep(120); // past the probe timeout, before the next probe
    expect(up.probes.hung).toBe(1);
    expect(health!.ready.blue).toBe(true);
  });

  it('takes a color out after two unanswered probes in a row', async () => {
    const up = await start();
    up.mode.value = 'hang';
    await until(() => !health!.ready.blue, 'blue out of rotation');
    expect(up.probes.hung).toBe(2);
  });

  it('takes a draining color (503) out at the first probe', async () => {
    const up = await start();
    up.mode.value = 'draining';
    await until(() => !health!.ready.blue, 'blue out of rotation');
  });
});
