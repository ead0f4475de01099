import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { startStandalone, type Standalone } from '@mqim/composition';
import { mqimSchema, readConfig } from '@mqim/config';
import { loopbackEnv } from './testing/standalone.fixture';

const DASHBOARDS = resolve(__dirname, '../../../infra/grafana/dashboards');

/** Series Prometheus records itself for every scrape target: no role exports them. */
const SCRAPE_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

const FUNCTION_OR_KEYWORD = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
]);

/**
 * Metric names in a PromQL expression: identifiers left once strings, label matchers, ranges and
 * grouping clauses are cut out, except those called like functions (`rate(`, `sum (`).
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = bare.slice(m.index! + m[0].length).trimStart();
    if (after.startsWith('(') || FUNCTION_OR_KEYWORD.has(m[0])) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** A histogram or summary is one family exported as `_bucket`, `_sum` and `_count` series. */
function family(name: string, families: Set<string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : '';
    if (base && families.has(base)) return base;
  }
  return name;
}

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
}

describe('dashboards - every metric a dashboard queries is exported by a running role', () => {
  let dir: string;
  let server: Standalone;
  let families: Set<string>;
  const dashboards = readdirSync(DASHBOARDS)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({
      file: f,
      json: JSON.parse(readFileSync(join(DASHBOARDS, f), 'utf8')) as { panels: Panel[] },
    }));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mqim-dash-'));
    server = await startStandalone(
      readConfig(mqimSchema, loopbackEnv(dir, { MQIM_API_KEY: 'k-dash-0123456789' })),
      pino({ level: 'silent' }),
    );
    // Every role writes into this one registry in the standalone (a cluster role exports the same
    // families from its own ops port): what a Prometheus scrape would get.
    const text = await (await fetch(`http://127.0.0.1:${server.ports.http}/metrics`)).text();
    families = new Set([...text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]!));
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('parse - names are told apart from functions, labels, ranges and grouping', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, topic) (rate(mqim_mq_publish_seconds_bucket{topic=~"a|b"}[5m]))) / on (job) up',
      ),
    ).toEqual(['mqim_mq_publish_seconds_bucket', 'up']);
  });

  it('dashboards - there is at least one, and every panel but rows queries something', () => {
    expect(dashboards.map((d) => d.file)).toContain('mqim-cluster.json');
    for (const { file, json } of dashboards)
      for (const p of json.panels.filter((p) => p.type !== 'row'))
        expect({ file, panel: p.title, targets: (p.targets ?? []).length > 0 }).toEqual({
          file,
          panel: p.title,
          targets: true,
        });
  });

  it('metrics - each name in each expression is a family on /metrics (or a series Prometheus records itself)', () => {
    const missing: string[] = [];
    for (const { file, json } of dashboards)
      for (const p of json.panels)
        for (const t of p.targets ?? [])
          for (const name of metricNames(t.expr))
            if (!SCRAPE_SERIES.has(name) && !families.has(family(name, families)))
              missing.push(`${file} "${p.title}": ${name}`);
    expect(missing).toEqual([]);
  });

  it('metrics - every mqim_* family exported has a panel (a new metric without one fails here)', () => {
    const shown = new Set<string>();
    for (const { json } of dashboards)
      for (const p of json.panels)
        for (const t of p.targets ?? []) for (const n of metricNames(t.expr)) shown.add(family(n, families));
    const unshown = [...families].filter((f) => f.startsWith('mqim_') && !shown.has(f));
    expect(unshown).toEqual([]);
    expect([...families].filter((f) => f.startsWith('mqim_')).length).toBeGreaterThanOrEqual(14);
  });
});
