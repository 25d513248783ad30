// An upstream process killed (SIGKILL) under constant load through the router: the requests it held are retried
// on the other color, the dead color is taken out of rotation, and no client sees an error.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnFakeModelServer, type FakeModelServerProcess } from '../helpers/fake-model-server.js';
import { startLoad } from '../helpers/load.js';
import { until } from '../helpers/wait.js';
import { startRouter, type RouterUnderTest } from './harness.js';

let upstreams: FakeModelServerProcess[] = [];
let rt: RouterUnderTest | undefined;

afterEach(async () => {
  await rt?.close();
  await Promise.all(upstreams.map((u) => u.stop()));
  upstreams = [];
});

describe('an upstream killed under load', () => {
  it('costs no client request: in-flight and new requests are retried on the other color', async () => {
    const blue = await spawnFakeModelServer('2026-04-01.001');
    const green = await spawnFakeModelServer('2026-04-02.001');
    upstreams = [blue, green];
    rt = await startRouter();
    await rt.router.setUpstream('blue', { url: blue.url, version: blue.version });
    await rt.router.setUpstream('green', { url: green.url, version: green.version });
    await rt.router.setWeights({ blue: 50, green: 50 });

    const load = startLoad(rt.url, { connections: 16 });
    await until(() => (load.result.served.green ?? 0) >= 300, 'green serving under load', 20_000);
    await green.stop('SIGKILL');
    const servedByGreenAtKill = load.result.served.green ?? 0;
    await until(() => (load.result.served.blue ?? 0) >= (load.result.served.green ?? 0) + 1000, 'blue serving alone after the kill', 20_000);
    const result = await load.stop();

    expect(result.failures).toEqual([]);
    expect(result.ok).toBeGreaterThan(1300);
    expect(result.served.green! - servedByGreenAtKill).toBeLessThanOrEqual(16); // answers already on the wire
    expect(rt.router.stats().colors.green.retries).toBeGreaterThan(0); // the kill did catch requests in flight
    expect(rt.router.getState().green.ready).toBe(false);
  });
});
