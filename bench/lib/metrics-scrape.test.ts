import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchDelta } from './metrics-scrape.js';

test('batch delta turns two scrapes into transactions, records per batch and busy share', () => {
  const before = { processor_batch_duration_seconds_sum: 1, processor_batch_duration_seconds_count: 10, processor_batch_records_sum: 20, processor_records_in_total: 20 };
  const after = { processor_batch_duration_seconds_sum: 4, processor_batch_duration_seconds_count: 210, processor_batch_records_sum: 420, processor_records_in_total: 420 };
  assert.deepEqual(batchDelta('bid', before, after, 5), { stage: 'bid', batches: 200, records: 400, recordsPerBatch: 2, meanBatchMs: 15, busyShare: 0.6 });
});
