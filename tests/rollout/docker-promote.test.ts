// One rollout through the DockerRuntime: the platform (process runtime for blue) starts the candidate as a
// container (its image built from the registry version when missing), promotes it and rolls it back.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BASE_IMAGE_TAGS } from '../../infra/base-image/base-image.js';
import { describeDocker } from '../helpers/docker.js';
import { startLoad } from '../helpers/load.js';
import { gsg, productionVersion, pushVersionCopy, startPlatform, testHome, type PlatformProcess, type TestHome } from '../helpers/platform.js';

describeDocker('gsg promote --runtime docker', () => {
  let home: TestHome;
  let platform: PlatformProcess;
  const env = { GSG_BASE_IMAGE: BASE_IMAGE_TAGS.build };

  beforeAll(async () => {
    home = await testHome();
    platform = await startPlatform(home, { env });
  });
  afterAll(async () => {
    await platform?.stop();
    await home?.remove();
  });

  it('promotes a version running as a container and rolls it back, with zero failed client requests', async () => {
    const ref = await pushVersionCopy(home, '2099-03-03.001');
    const load = startLoad(platform.url, { connections: 2, pauseMs: 5 });
    try {
      const cli = (args: string[]) => gsg([...args, '--router', platform.url], { ...home.env, ...env }, 600_000);
      const promote = await cli(['promote', ref, '--runtime', 'docker', '--steps', '50,100', '--interval', '1s', '--min-requests', '10', '--max-p99-ms', '10000', '--scale-down-delay', '2m']);
      expect(promote.code, promote.stdout + promote.stderr).toBe(0);
      expect(promote.stdout).toMatch(/starting sentiment-logreg@2099-03-03\.001 as (blue|green) \(docker runtime\)/);
      expect(await productionVersion(home)).toBe('2099-03-03.001');

      const rollback = await cli(['rollback', '--reason', 'docker run done']);
      expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
      expect(await productionVersion(home)).not.toBe('2099-03-03.001');
    } finally {
      const result = await load.stop();
      expect(result.failures).toEqual([]);
    }
  }, 600_000);
});
