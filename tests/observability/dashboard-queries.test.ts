// The whole observability chain against a real Prometheus: a platform and two model servers exposing the real metric
// names (synthetic traffic until the live platform replaces it), scraped every second with the model servers found
// through targets.json, the project's recording and alerting rules loaded, and every Grafana panel query run.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dashboardQueries, describePrometheus, missingQueryData, startPrometheus, variableQueries, type RunningPrometheus } from '../helpers/prometheus.js';
import { startSyntheticPlatform, type SyntheticPlatform } from '../helpers/synthetic-metrics.js';

const BLUE = '2026-11-20.001';
const GREEN = '2026-11-25.001';

describePrometheus('dashboards and rules on a real Prometheus', () => {
  let platform: SyntheticPlatform;
  let prom: RunningPrometheus;

  beforeAll(async () => {
    // Mid-rollout: green (the candidate) takes 25% and fails 10% of its requests.
    platform = await startSyntheticPlatform({
      colors: [
        { color: 'blue', version: BLUE, weight: 75 },
        { color: 'green', version: GREEN, weight: 25, errorRate: 0.1, negativeShare: 0.4 },
      ],
      requestsPerSecond: 60,
      rollout: { step: 2, deadlineInSeconds: 300 },
    });
    prom = await startPrometheus({ platformTargets: [platform.platformTarget], modelServers: platform.modelServers });
    await prom.waitForTargets({ platform: 1, 'model-server': 2 });
    // Recording rules need two scrapes of each counter inside their window.
    await prom.waitFor('color_version:gsg_server_requests:rate1m', (s) => s.length === 2);
    await prom.waitFor('color:gsg_router_request_errors:ratio_rate1m{color=~"blue|green"}', (s) => s.length === 2);
  });

  afterAll(async () => {
    await prom?.stop();
    await platform?.stop();
  });

  it('discovers each model server from targets.json with its color and version', async () => {
    const servers = (await prom.activeTargets()).filter((t) => t.labels.job === 'model-server');
    expect(servers.map((t) => [t.labels.color, t.labels.model_version, t.health]).sort()).toEqual([
      ['blue', BLUE, 'up'],
      ['green', GREEN, 'up'],
    ]);
    const info = await prom.vector('gsg_server_model_info');
    expect(info.map((s) => [s.metric.color, s.metric.model_version]).sort()).toEqual([
      ['blue', BLUE],
      ['green', GREEN],
    ]);
  });

  it("keeps the servers' own model_version label (no exported_model_version)", async () => {
    expect(await prom.vector('count({exported_model_version!=""})')).toEqual([]);
  });

  it('records a 0 error ratio for the clean color and about the injected ratio for the failing one', async () => {
    const ratios = Object.fromEntries((await prom.vector('color:gsg_router_request_errors:ratio_rate1m')).map((s) => [s.metric.color, Number(s.value[1])]));
    expect(ratios.blue).toBe(0);
    expect(ratios.green).toBeGreaterThan(0.02);
    expect(ratios.green).toBeLessThan(0.4);
  });

  it('records p50 <= p95 <= p99 per color', async () => {
    const q = await prom.vector('color:gsg_router_request_duration_seconds:quantile_rate1m');
    for (const color of ['blue', 'green']) {
      const v = (quantile: string) => Number(q.find((s) => s.metric.color === color && s.metric.quantile === quantile)?.value[1]);
      expect(v('0.5')).toBeGreaterThan(0);
      expect(v('0.5')).toBeLessThanOrEqual(v('0.95'));
      expect(v('0.95')).toBeLessThanOrEqual(v('0.99'));
    }
  });

  it('turns GsgHighErrorRatio pending for the failing color only', async () => {
    const deadline = Date.now() + 20_000;
    let alerts = await prom.alerts();
    while (!alerts.some((a) => a.labels.alertname === 'GsgHighErrorRatio') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      alerts = await prom.alerts();
    }
    const errorAlerts = alerts.filter((a) => a.labels.alertname === 'GsgHighErrorRatio');
    expect(errorAlerts.map((a) => [a.labels.color, a.state])).toEqual([['green', 'pending']]);
    expect(alerts.filter((a) => a.labels.alertname !== 'GsgHighErrorRatio')).toEqual([]);
  });

  it.each(variableQueries())('$dashboard: variable $variable ($raw) has values', async ({ expr }) => {
    expect((await prom.vector(expr)).length).toBeGreaterThan(0);
  });

  it.each(dashboardQueries())('$dashboard / $panel [$refId] parses and returns data', async (q) => {
    expect(await missingQueryData(prom, q)).toEqual([]);
  });

  it('stops scraping a model server once it is gone from targets.json', async () => {
    await prom.setModelServers(platform.modelServers.filter((g) => g.labels.color === 'blue'));
    await prom.waitFor('count(up{job="model-server"})', (s) => s[0]?.value[1] === '1');
    const servers = (await prom.activeTargets()).filter((t) => t.labels.job === 'model-server');
    expect(servers.map((t) => t.labels.color)).toEqual(['blue']);
  });
});
