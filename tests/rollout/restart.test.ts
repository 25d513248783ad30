// The controller lives in the platform process: killed with SIGKILL in the middle of a canary step and started
// again, the platform resumes or aborts the rollout, and traffic ends 100% on one ready color — never left split.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rollout } from '../../infra/rollout/state.js';
import { startLoad } from '../helpers/load.js';
import { pushVersionCopy, startPlatform, testHome, type PlatformProcess, type TestHome } from '../helpers/platform.js';
import { until } from '../helpers/wait.js';

describe('a platform killed mid-rollout', () => {
  let home: TestHome;
  let platform: PlatformProcess | undefined;

  beforeAll(async () => {
    home = await testHome();
  });
  afterAll(async () => {
    await platform?.stop();
    await home?.remove();
  });

  it('resumes or aborts the rollout after a restart and ends with all traffic on one ready color', async () => {
    const first = await startPlatform(home);
    const ref = await pushVersionCopy(home, '2099-02-02.001');
    const load = startLoad(first.url, { connections: 2, pauseMs: 5 });
    try {
      const submitted = await first.admin<Rollout>('/rollouts', {
        method: 'POST',
        body: { ref, steps: [50, 100], interval_ms: 3000, min_requests: 5, deadline_ms: 60_000, max_p99_ms: 2000, scale_down_delay_ms: 60_000 },
      });
      expect(submitted.status).toBe(202);
      const candidate = submitted.body.candidate.color;
      await until(async () => (await first.state())[candidate].weight === 50, 'the candidate at 50%', 60_000);

      await first.stop('SIGKILL');
      platform = await startPlatform(home, { port: first.port });

      await until(async () => {
        const r = await platform!.admin<Rollout & { running: boolean }>('/rollouts/current');
        return r.body.phase === 'done' && !r.body.running;
      }, 'the rollout to end', 90_000);
      const r = (await platform.admin<Rollout>('/rollouts/current')).body;
      expect(['promoted', 'aborted']).toContain(r.result);
      expect(r.events.map((e) => e.type)).toEqual(expect.arrayContaining([r.result === 'promoted' ? 'resumed' : 'aborting']));

      const state = await platform.state();
      const weighted = (['blue', 'green'] as const).filter((c) => state[c].weight > 0);
      expect(weighted).toHaveLength(1);
      expect(state[weighted[0]!]).toMatchObject({ weight: 100, ready: true });
      const res = await fetch(`${platform.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"texts":["buen gimnasio"]}' });
      expect(res.status).toBe(200);
    } finally {
      await load.stop(); // requests fail while no platform listens; that window is not what this test judges
    }
  });
});
