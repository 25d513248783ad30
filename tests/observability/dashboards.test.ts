// The Grafana provisioning and dashboards, checked as files (Grafana itself cannot be installed here): they load
// without prompts from the provisioned datasource, every query uses only defined variables, panels fit the grid,
// and each dashboard shows what issue 8 lists. dashboard-queries.test.ts runs the queries themselves.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectRoot } from '../../lib/paths.js';
import { allPanels, dashboardQueries, GRAFANA_BUILTINS, loadDashboards } from '../helpers/prometheus.js';

const grafana = join(projectRoot(), 'grafana');
const datasources = parse(readFileSync(join(grafana, 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as {
  datasources: { uid: string; type: string; url: string; isDefault?: boolean }[];
};
const providers = parse(readFileSync(join(grafana, 'provisioning', 'dashboards', 'gsg.yml'), 'utf8')) as {
  providers: { type: string; options: { path: string } }[];
};
const DATASOURCE_UID = 'gsg-prometheus';
const dashboards = loadDashboards();

describe('Grafana provisioning', () => {
  it('provides the stack Prometheus as the default datasource under a fixed uid', () => {
    expect(datasources.datasources).toEqual([expect.objectContaining({ uid: DATASOURCE_UID, type: 'prometheus', url: 'http://prometheus:9090', isDefault: true })]);
  });

  it('loads the dashboards from files at the path the stack mounts grafana/dashboards on', () => {
    expect(providers.providers).toEqual([expect.objectContaining({ type: 'file', options: expect.objectContaining({ path: '/var/lib/grafana/dashboards' }) })]);
  });
});

describe.each(dashboards.map((d) => [d.file, d] as const))('dashboard %s', (_file, d) => {
  const text = JSON.stringify(d);
  const panels = allPanels(d);

  it('has its own uid and a title', () => {
    expect(dashboards.filter((o) => o.uid === d.uid)).toHaveLength(1);
    expect(d.title).toMatch(/^gym-sentiment-guard \/ /);
  });

  it('refers to the provisioned datasource by uid (no import prompt)', () => {
    expect(text).not.toMatch(/DS_PROMETHEUS|__inputs/);
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: DATASOURCE_UID });
      for (const t of p.targets ?? []) expect(t.datasource, `${p.title} ${t.refId}`).toEqual({ type: 'prometheus', uid: DATASOURCE_UID });
    }
  });

  it('gives every panel at least one query', () => {
    for (const p of panels) expect(p.targets?.filter((t) => t.expr?.trim()).length, p.title).toBeGreaterThan(0);
  });

  it('uses only its own variables and Grafana built-ins in queries', () => {
    const defined = new Set([...(d.templating?.list ?? []).map((v) => v.name), ...Object.keys(GRAFANA_BUILTINS)]);
    for (const p of panels) {
      for (const t of p.targets ?? []) {
        for (const m of (t.expr ?? '').matchAll(/\$\{?(\w+)|\[\[(\w+)\]\]/g)) expect(defined, `${p.title}: $${m[1] ?? m[2]}`).toContain(m[1] ?? m[2]);
      }
    }
    const substituted = dashboardQueries().filter((q) => q.dashboard === d.title);
    for (const q of substituted) expect(q.expr, q.panel).not.toMatch(/\$|\[\[/);
  });

  it('lays panels out inside 24 columns without overlaps', () => {
    const boxes = d.panels.map((p) => ({ title: p.title, ...p.gridPos! }));
    for (const [i, a] of boxes.entries()) {
      expect(a.x + a.w, a.title).toBeLessThanOrEqual(24);
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${a.title} overlaps ${b.title}`).toBe(false);
      }
    }
  });
});

// What each dashboard must show (issue 8), as the series its queries must read.
const REQUIRED: [uid: string, what: string, pattern: RegExp][] = [
  ['gsg-serving', 'requests/s per color', /color:gsg_router_requests:rate1m/],
  ['gsg-serving', 'error ratio per color', /color:gsg_router_request_errors:ratio_rate1m/],
  ['gsg-serving', 'p50/p95/p99 per color', /color:gsg_router_request_duration_seconds:quantile_rate1m\{.*quantile="0\.99"/],
  ['gsg-serving', 'requests/s per version', /color_version:gsg_server_requests:rate1m/],
  ['gsg-serving', 'error ratio per version', /color_version:gsg_server_request_errors:ratio_rate1m/],
  ['gsg-serving', 'p50/p95/p99 per version', /color_version:gsg_server_request_duration_seconds:quantile_rate1m\{.*quantile="0\.99"/],
  ['gsg-serving', 'batch sizes', /gsg_server_batch_size_bucket/],
  ['gsg-serving', 'prediction mix per version', /sum by \(model_version, sentiment\) \(rate\(gsg_server_predictions_total/],
  ['gsg-releases', 'weights over time', /gsg_router_weight/],
  ['gsg-releases', 'live versions per color', /gsg_router_upstream_info/],
  ['gsg-releases', 'rollout steps', /gsg_rollout_step/],
  ['gsg-releases', 'rollout results', /gsg_rollout_total/],
  ['gsg-releases', 'alias moves', /gsg_alias_moves_total/],
  ['gsg-model', 'image size per version', /gsg_image_size_bytes/],
  ['gsg-model', 'cold start per version', /gsg_cold_start_seconds/],
  ['gsg-model', 'model load time', /gsg_server_model_load_seconds/],
  ['gsg-model', 'share of negative predictions per version', /color_version:gsg_server_predictions_negative:ratio_rate5m/],
];

describe('dashboard contents', () => {
  it.each(REQUIRED)('%s shows %s', (uid, _what, pattern) => {
    const d = dashboards.find((o) => o.uid === uid);
    expect(d, uid).toBeDefined();
    const exprs = allPanels(d!).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
    expect(exprs.some((e) => pattern.test(e))).toBe(true);
  });
});
