import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FxRates, fetchRateTable } from './fx-rates.js';

const dir = mkdtempSync(join(tmpdir(), 'fx-'));
const write = (name: string, body: string) => {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
};
const doc = (asOfMs: number, eur: string) => JSON.stringify({ base: 'USD', asOfMs, rates: { EUR: eur } });

test('fx-rates: a bad file fails with one line naming the file and the problem', async () => {
  await assert.rejects(fetchRateTable({ file: join(dir, 'missing.json'), url: '' }), /missing\.json: cannot read/);
  await assert.rejects(fetchRateTable({ file: write('bad.json', '{nope'), url: '' }), /bad\.json: not JSON/);
  await assert.rejects(fetchRateTable({ file: write('float.json', JSON.stringify({ base: 'USD', asOfMs: 1, rates: { EUR: 0.9 } })), url: '' }), /rates\.EUR/);
});

test('fx-rates: a failed refresh keeps the last good table and reports the error; a stale table is withheld', async () => {
  const path = write('rates.json', doc(1_000_000, '0.9'));
  const errors: Error[] = [];
  const fx = new FxRates({ source: { file: path, url: '' }, refreshMs: 60_000, maxAgeMs: 10_000, onRefreshError: (e) => errors.push(e) });
  await fx.start();
  fx.stop();
  assert.equal(fx.usable(1_005_000)?.ratesPpm.get('EUR'), 900_000);
  writeFileSync(path, 'garbage');
  await fx.refresh();
  assert.equal(errors.length, 1);
  assert.equal(fx.usable(1_005_000)?.ratesPpm.get('EUR'), 900_000, 'kept');
  assert.equal(fx.usable(1_010_001), null, 'older than the maximum age');
  assert.equal(fx.ageMs(1_010_001), 10_001);
  writeFileSync(path, doc(1_020_000, '0.95'));
  await fx.refresh();
  assert.equal(fx.usable(1_021_000)?.ratesPpm.get('EUR'), 950_000);
});

test('fx-rates: unconfigured means no table (USD only)', async () => {
  const fx = new FxRates({ source: { file: '', url: '' }, refreshMs: 1000, maxAgeMs: 1000 });
  await fx.start();
  assert.equal(fx.configured, false);
  assert.equal(fx.usable(Date.now()), null);
  assert.equal(fx.ageMs(Date.now()), Infinity);
});
