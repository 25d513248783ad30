// What the Prometheus rules promise beyond "promtool accepts them": every alert is documented, has a severity and is
// unit-tested both firing and not firing; every recording rule is named level:metric:operation and unit-tested; and
// every gsg_* metric the rules and dashboards read is one docs/architecture.md names (so exporters and queries agree).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { prometheusDir } from '../../infra/prometheus-image/config.js';
import { projectRoot } from '../../lib/paths.js';
import { dashboardQueries } from '../helpers/prometheus.js';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface UnitTest {
  name: string;
  alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[];
  promql_expr_test?: { expr: string }[];
}

const readYaml = (dir: string) =>
  readdirSync(join(prometheusDir(), dir))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => parse(readFileSync(join(prometheusDir(), dir, f), 'utf8')) as Record<string, unknown>);

const rules = readYaml('rules').flatMap((f) => (f.groups as { rules: Rule[] }[]).flatMap((g) => g.rules));
const alerts = rules.filter((r) => r.alert);
const records = [...new Set(rules.flatMap((r) => (r.record ? [r.record] : [])))];
const unitTests = readYaml('tests').flatMap((f) => f.tests as UnitTest[]);
const alertCases = unitTests.flatMap((t) => t.alert_rule_test ?? []);
const exprCases = unitTests.flatMap((t) => t.promql_expr_test ?? []);

describe('alerting rules', () => {
  it('cover what issue 8 asks for', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      expect.arrayContaining(['GsgColdStartSlow', 'GsgHighErrorRatio', 'GsgImageTooLarge', 'GsgLatencyP99High', 'GsgRolloutStuck', 'GsgUpstreamDown']),
    );
  });

  it.each(alerts.map((a) => [a.alert!, a] as const))('%s has a severity, a summary and a description', (_name, a) => {
    expect(['critical', 'warning']).toContain(a.labels?.severity);
    expect(a.annotations?.summary).toBeTruthy();
    expect(a.annotations?.description).toBeTruthy();
  });

  it.each(alerts.map((a) => a.alert!))('%s has a unit test where it fires and one where it does not', (name) => {
    const cases = alertCases.filter((c) => c.alertname === name);
    expect(cases.some((c) => (c.exp_alerts ?? []).length > 0)).toBe(true);
    expect(cases.some((c) => (c.exp_alerts ?? []).length === 0)).toBe(true);
  });
});

describe('recording rules', () => {
  it.each(records)('%s is named level:metric:operation', (name) => {
    expect(name).toMatch(/^[a-z_]+:gsg_[a-z0-9_]+:[a-z0-9_]+$/);
  });

  it.each(records)('%s has a unit test of its value', (name) => {
    expect(exprCases.some((c) => c.expr.includes(name))).toBe(true);
  });
});

describe('metric names', () => {
  const architecture = readFileSync(join(projectRoot(), 'docs', 'architecture.md'), 'utf8');
  const used = new Set<string>();
  for (const expr of [...rules.map((r) => r.expr), ...dashboardQueries().map((q) => q.expr)]) {
    for (const m of expr.matchAll(/(?<![:\w])gsg_[a-z0-9_]+/g)) used.add(m[0].replace(/_(bucket|sum|count)$/, ''));
  }

  it.each([...used].sort())('%s is named in docs/architecture.md', (name) => {
    expect(architecture).toMatch(new RegExp(`\\b${name}\\b`));
  });
});
