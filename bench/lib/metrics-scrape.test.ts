import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { batchDelta, scrapeMetrics } from './metrics-scrape.js';

test('batch delta turns two scrapes into transactions, records per batch and busy share', () => {
  const before = { processor_batch_duration_seconds_sum: 1, processor_batch_duration_seconds_count: 10, processor_batch_records_sum: 20, processor_records_in_total: 20 };
  const after = { processor_batch_duration_seconds_sum: 4, processor_batch_duration_seconds_count: 210, processor_batch_records_sum: 420, processor_records_in_total: 420 };
  assert.deepEqual(batchDelta('bid', before, after, 5), { stage: 'bid', batches: 200, records: 400, recordsPerBatch: 2, meanBatchMs: 15, busyShare: 0.6 });
});

test('scrapeMetrics sums a name over its series, or only the series with a label when asked', async (t) => {
  const srv = http.createServer((_req, res) => res.end([
    '# HELP ingest_requests_total x', 'ingest_requests_total{route="openrtb",status="202"} 7', 'ingest_requests_total{route="simple",status="202"} 2',
    'ingest_requests_total{route="openrtb",status="400"} 1', 'other 3', '',
  ].join('\n')));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => srv.close());
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  assert.deepEqual(await scrapeMetrics(url, ['ingest_requests_total', 'ingest_requests_total{status="202"}', 'missing']), {
    ingest_requests_total: 10, 'ingest_requests_total{status="202"}': 9, missing: null,
  });
});
