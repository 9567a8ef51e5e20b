import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';
import { metricSum, parseMetrics, parseSampleLine, scrapeSamples, sumSamples } from './metrics-scrape.js';

test('parseSampleLine reads name, labels (escapes included) and value; comments and junk are null', () => {
  assert.deepEqual(parseSampleLine('up 1'), { name: 'up', labels: {}, value: 1 });
  assert.deepEqual(parseSampleLine('x_bucket{le="+Inf",service="bid"} 12 1700000000000'), { name: 'x_bucket', labels: { le: '+Inf', service: 'bid' }, value: 12 });
  assert.deepEqual(parseSampleLine('m{a="q\\"uote, {brace}",b="back\\\\slash",c="new\\nline"} 2.5'), { name: 'm', labels: { a: 'q"uote, {brace}', b: 'back\\slash', c: 'new\nline' }, value: 2.5 });
  assert.equal(parseSampleLine('g +Inf')?.value, Infinity);
  assert.ok(Number.isNaN(parseSampleLine('g NaN')?.value));
  for (const line of ['', '# TYPE up gauge', '# HELP up x', 'm{a="unterminated} 1', 'm{a=1} 1', 'name_only']) assert.equal(parseSampleLine(line), null, line);
});

test('parseMetrics and sumSamples on what prom-client exports: by name, by labels, undefined when absent', async () => {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'settle' });
  const c = new Counter({ name: 'settle_reservations_total', help: 'x', labelNames: ['result'], registers: [registry] });
  c.inc({ result: 'settled' }, 3);
  c.inc({ result: 'released' }, 2);
  const h = new Histogram({ name: 'batch_seconds', help: 'x', buckets: [0.1, 1], registers: [registry] });
  h.observe(0.5);
  h.observe(2);
  new Counter({ name: 'never_total', help: 'x', labelNames: ['k'], registers: [registry] });
  const samples = parseMetrics(await registry.metrics());
  assert.equal(sumSamples(samples, 'settle_reservations_total'), 5);
  assert.equal(sumSamples(samples, 'settle_reservations_total', { result: 'settled' }), 3);
  assert.equal(sumSamples(samples, 'settle_reservations_total', { result: 'settled', service: 'settle' }), 3);
  assert.equal(sumSamples(samples, 'settle_reservations_total', { result: 'unknown' }), undefined);
  assert.equal(sumSamples(samples, 'batch_seconds_count'), 2);
  assert.equal(sumSamples(samples, 'batch_seconds_bucket', { le: '+Inf' }), 2);
  assert.equal(sumSamples(samples, 'never_total'), undefined, 'a labelled counter has no sample before its first inc');
});

test('scrapeSamples and metricSum GET <url>/metrics; 0 when absent; a non-2xx answer rejects', async (t) => {
  let status = 200;
  const srv = http.createServer((req, res) => {
    res.statusCode = req.url === '/metrics' ? status : 404;
    res.end('# HELP a x\nsink_records_in_total{service="sink"} 42\nsink_partition_assignments_total{event="assigned",service="sink"} 4\nsink_partition_assignments_total{event="revoked",service="sink"} 1\n');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => srv.close());
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  assert.equal((await scrapeSamples(url)).length, 3);
  assert.equal(await metricSum(url, 'sink_records_in_total'), 42);
  assert.equal(await metricSum(url, 'sink_partition_assignments_total', { event: 'assigned' }), 4);
  assert.equal(await metricSum(url, 'sink_zombie_rejections_total'), 0);
  status = 503;
  await assert.rejects(scrapeSamples(url), /answered 503/);
});
