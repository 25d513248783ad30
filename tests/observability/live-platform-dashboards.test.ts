// Every Grafana panel query and variable query against a real Prometheus scraping a live process-mode platform
// (`gsg up` as a child process): mixed traffic through the router (single, batch, explain, 4xx), a second version
// promoted with `gsg promote` under that traffic, the platform and both model servers scraped (the servers found
// through the targets.json the platform writes). gsg_image_size_bytes comes from build records: with a Docker engine
// the images are built for real (`gsg build`'s code, cached by content), without one a record is written per version.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BASE_IMAGE_TAGS } from '../../infra/base-image/base-image.js';
import { buildModelImage } from '../../infra/images/build-image.js';
import { writeBuildRecord, type BuildRecord } from '../../infra/images/build-record.js';
import { artifactSha256, readMetadata } from '../../models/artifact.js';
import { dockerAvailable } from '../helpers/docker.js';
import { bundledVersionDir } from '../helpers/models.js';
import { gsg, pushVersionCopy, startPlatform, testHome, type PlatformProcess, type TestHome } from '../helpers/platform.js';
import { dashboardQueries, describePrometheus, missingQueryData, startPrometheus, variableQueries, type RunningPrometheus } from '../helpers/prometheus.js';
import { startTraffic, type Traffic } from '../stack/traffic.js';

/** The same copy of the bundled version the docker-runtime rollout test uses, so their images are one build. */
const V2 = '2099-03-03.001';

/** Build records for the versions: real image builds where Docker runs, else records written as `gsg build` would. */
async function recordImages(home: string, dirs: string[]): Promise<BuildRecord[]> {
  if (dockerAvailable()) {
    const records: BuildRecord[] = [];
    for (const dir of dirs) records.push(await buildModelImage(dir, { baseImage: BASE_IMAGE_TAGS.build, runtimeBaseImage: BASE_IMAGE_TAGS.runtime, home }));
    return records;
  }
  console.warn('no Docker engine: writing build records instead of building the images');
  return Promise.all(
    dirs.map(async (dir, i) => {
      const meta = await readMetadata(dir);
      const record: BuildRecord = {
        image: `gsg-model-server:${meta.model_name}-${meta.version}`,
        imageId: `sha256:${String(i + 1).repeat(64)}`,
        modelName: meta.model_name,
        version: meta.version,
        sha256: artifactSha256(meta),
        sizeBytes: 150_000_000 + i,
        buildSeconds: 1,
        baseImage: BASE_IMAGE_TAGS.build,
        runtimeBaseImage: BASE_IMAGE_TAGS.runtime,
        createdAt: new Date().toISOString(),
        revision: 'unknown',
        buildKey: 'written-by-test',
        reused: false,
      };
      await writeBuildRecord(record, home);
      return record;
    }),
  );
}

describePrometheus('dashboards on a live process-mode platform', () => {
  let home: TestHome;
  let platform: PlatformProcess;
  let prom: RunningPrometheus;
  let traffic: Traffic | undefined;
  let v1: string;
  let records: BuildRecord[];
  let promote: Awaited<ReturnType<typeof gsg>>;

  beforeAll(async () => {
    home = await testHome();
    const bundled = await bundledVersionDir();
    v1 = (await readMetadata(bundled)).version;
    const ref = await pushVersionCopy(home, V2);
    [platform, records] = await Promise.all([startPlatform(home), recordImages(home.dir, [bundled, join(home.dir, 'versions', V2)])]);
    prom = await startPrometheus({ platformTargets: [`127.0.0.1:${platform.port}`], targetsDir: join(home.dir, 'platform', 'targets') });
    traffic = startTraffic(platform.url, { concurrency: 2, pauseMs: 5, maxSeconds: 300 });
    await prom.waitForTargets({ platform: 1, 'model-server': 1 });
    // Loose limits: the analysis is not under test here, and the machine runs other suites at the same time.
    promote = await gsg(
      ['promote', ref, '--steps', '50,100', '--interval', '1s', '--min-requests', '10', '--max-p99-ms', '10000', '--scale-down-delay', '30s', '--router', platform.url],
      home.env,
    );
    // Both colors scraped with their traffic in the recording rules' window, and the promotion's metrics scraped.
    await prom.waitForTargets({ platform: 1, 'model-server': 2 });
    await prom.waitFor('color_version:gsg_server_requests:rate1m > 0', (s) => s.length === 2);
    await prom.waitFor('gsg_alias_moves_total{alias="production"} > 0');
  }, 240_000);

  afterAll(async () => {
    await traffic?.stop();
    await prom?.stop();
    await platform?.stop();
    await home?.remove();
  });

  it('promotes the second version under the mixed traffic without an unexpected answer', async () => {
    expect(promote.code, promote.stdout + promote.stderr).toBe(0);
    const result = await traffic!.stop();
    traffic = startTraffic(platform.url, { concurrency: 2, pauseMs: 5, maxSeconds: 300 });
    expect(result.unexpected).toEqual([]);
    expect(Object.keys(result.byStatus).sort()).toEqual(['200', '400', '422']);
  });

  it('exports the platform metrics of both versions: image size from the build records, cold start, production', async () => {
    const sizes = Object.fromEntries((await prom.vector('gsg_image_size_bytes')).map((s) => [s.metric.model_version, Number(s.value[1])]));
    expect(sizes).toEqual(Object.fromEntries(records.map((r) => [r.version, r.sizeBytes])));
    const cold = await prom.vector('gsg_cold_start_seconds{runtime="process"}');
    expect(cold.map((s) => s.metric.model_version).sort()).toEqual([v1, V2].sort());
    expect((await prom.vector('gsg_production_info')).map((s) => s.metric.model_version)).toEqual([V2]);
    expect(await prom.vector('gsg_rollout_total{result="promoted"} == 1')).toHaveLength(1);
  });

  it('scrapes both model servers through the targets file, labelled with their color and version', async () => {
    const servers = (await prom.activeTargets()).filter((t) => t.labels.job === 'model-server');
    expect(servers.map((t) => [t.labels.color, t.labels.model_version, t.health]).sort()).toEqual(
      [
        ['blue', v1, 'up'],
        ['green', V2, 'up'],
      ].sort(),
    );
  });

  it.each(variableQueries())('$dashboard: variable $variable ($raw) has values', async ({ expr }) => {
    expect((await prom.vector(expr)).length).toBeGreaterThan(0);
  });

  it.each(dashboardQueries())('$dashboard / $panel [$refId] parses and returns data', async (q) => {
    expect(await missingQueryData(prom, q)).toEqual([]);
  });
});
