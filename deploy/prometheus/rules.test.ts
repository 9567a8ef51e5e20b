/**
 * The alert rules, checked by Prometheus' own tool: `promtool check rules` (syntax, PromQL, templates),
 * `promtool check config` (prometheus.yml loads them through rule_files) and `promtool test rules`
 * (alerts.test.yml: series that fire each alert and series that do not). promtool comes from
 * .stack/tools/promtool (installed by deploy/bootstrap.sh) or the PATH; without it this test fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parse } from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

function findPromtool(): string {
  const local = path.join(root, '.stack/tools/promtool');
  if (existsSync(local)) return local;
  const onPath = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (onPath.status === 0) return 'promtool';
  assert.fail('promtool not found (neither .stack/tools/promtool nor on the PATH): run `bash deploy/bootstrap.sh`, which extracts it from Debian\'s prometheus package');
}

function promtool(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(findPromtool(), args, { cwd: here, encoding: 'utf8', timeout: 60_000 });
  if (r.error) assert.fail(`promtool ${args.join(' ')} could not run: ${r.error.message}`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

interface Rule { alert?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
interface RuleTest { alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }
const rules = (parse(readFileSync(path.join(here, 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const unitTests = (parse(readFileSync(path.join(here, 'alerts.test.yml'), 'utf8')) as { tests: RuleTest[] }).tests;

test('promtool check rules accepts alerts.yml', () => {
  const r = promtool('check', 'rules', 'alerts.yml');
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, new RegExp(`SUCCESS: ${rules.length} rules found`), r.out);
});

test('promtool check config accepts prometheus.yml and loads alerts.yml through rule_files', () => {
  const r = promtool('check', 'config', 'prometheus.yml');
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /SUCCESS: 1 rule files found/, r.out);
  assert.match(r.out, new RegExp(`Checking alerts.yml\\s+SUCCESS: ${rules.length} rules found`), r.out);
});

test('promtool test rules passes alerts.test.yml', () => {
  const r = promtool('test', 'rules', 'alerts.test.yml');
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /SUCCESS/, r.out);
  assert.doesNotMatch(r.out, /FAILED/, r.out);
});

test('every alert waits (for:), has a severity and annotations with a runbook hint, and is unit-tested both ways', () => {
  assert.ok(rules.length >= 7, `expected the alert list, found ${rules.length} rules`);
  for (const r of rules) {
    const name = r.alert ?? `record ${JSON.stringify(r)}`;
    assert.ok(r.alert, `${name}: only alerting rules here`);
    assert.match(r.for ?? '', /^\d+[smh]$/, `${name}: for:`);
    assert.match(r.labels?.severity ?? '', /^(critical|warning)$/, `${name}: severity label`);
    assert.ok(r.annotations?.summary, `${name}: summary annotation`);
    assert.match(r.annotations?.description ?? '', /Runbook: /, `${name}: description with a runbook hint`);
    const evals = unitTests.flatMap((t) => t.alert_rule_test ?? []).filter((e) => e.alertname === r.alert);
    assert.ok(evals.some((e) => (e.exp_alerts ?? []).length > 0), `${name}: alerts.test.yml has no case where it fires`);
    assert.ok(evals.some((e) => (e.exp_alerts ?? []).length === 0), `${name}: alerts.test.yml has no case where it does not fire`);
  }
});
