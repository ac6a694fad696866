/**
 * docs/alerts.yaml is a rule file Prometheus loads (`promtool check rules`), its alerts fire on the series they are
 * about (`promtool test rules test/docs/alerts.test.yaml`), and every series it names is one /metrics exposes. And a
 * daemon's scrape passes `promtool check metrics` (Prometheus's own lint of the text format and of names).
 * promtool comes with Debian's prometheus package (scripts/setup installs it): without it this fails, saying so.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DaemonMetrics, METRIC_FAMILIES } from '../../api/http/metrics.js';
import { SNAPSHOT } from '../api/http/metrics-fixture.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RULES = 'docs/alerts.yaml';

function promtool(args: string[], input?: string) {
  const r = spawnSync('promtool', args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000, ...(input !== undefined ? { input } : {}) });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error("promtool is missing: install Debian's prometheus package (scripts/setup does)");
  }
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('the example alert rules (docs/alerts.yaml)', () => {
  it('load in Prometheus: promtool check rules', () => {
    const r = promtool(['check', 'rules', RULES]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('fire on the series they are about, with their labels and annotations: promtool test rules', () => {
    const r = promtool(['test', 'rules', 'test/docs/alerts.test.yaml']);
    expect(r.code, r.output).toBe(0);
  });

  it('name only series a daemon exposes (and Prometheus\'s own `up`)', () => {
    const groups = (parse(readFileSync(`${ROOT}${RULES}`, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups;
    const exposed = new Set([...METRIC_FAMILIES.map((f) => f.name), 'up']);
    const named = groups.flatMap((g) => g.rules.flatMap((r) => [...r.expr.matchAll(/\b(vswitch_[a-z_]+|process_[a-z_]+|up)\b(?=\s*[{[)=<>!]|\s*$)/g)].map((m) => m[1]!)));
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((n) => !exposed.has(n))).toEqual([]);
  });

  it('gives every alert a severity, a summary and a description', () => {
    const groups = (parse(readFileSync(`${ROOT}${RULES}`, 'utf8')) as { groups: { rules: { alert: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] }[] }).groups;
    for (const rule of groups.flatMap((g) => g.rules)) {
      expect(['critical', 'warning', 'info'], rule.alert).toContain(rule.labels?.['severity']);
      expect(rule.annotations?.['summary'], rule.alert).toBeTruthy();
      expect(rule.annotations?.['description'], rule.alert).toBeTruthy();
    }
  });
});

describe("a daemon's scrape", () => {
  it("passes Prometheus's lint: promtool check metrics", async () => {
    const r = promtool(['check', 'metrics'], await new DaemonMetrics(() => SNAPSHOT).scrape());
    expect(r.code, r.output).toBe(0);
    expect(r.output).toBe('');
  });
});
