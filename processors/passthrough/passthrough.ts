/**
 * The pass-through processor: every record out unchanged to another topic. It costs only what the
 * runner costs, so it is the baseline of the processor benchmarks and the subject of the runner's
 * exactly-once and at-least-once tests. A copy is idempotent, so either delivery is valid for it.
 *
 * Test hook: records whose key is in `failKeys` throw a retryable error every time (a poison record as
 * the runner sees one: processors/runtime/poison.int.test.ts). Empty in any real use.
 */
import { PipelineError } from '../../schemas/errors.js';
import type { Delivery, Processor } from '../runtime/processor.js';

export function passThrough<T>(name: string, input: string, output: string, delivery: Delivery = 'exactly-once', failKeys: readonly string[] = []): Processor<T> {
  const fail = new Set(failKeys);
  return {
    name,
    delivery,
    input,
    outputs: [output],
    process: (record) => {
      if (fail.size > 0 && record.key !== null && fail.has(record.key)) {
        throw new PipelineError('DEPENDENCY_UNAVAILABLE', `test failure hook: key ${record.key} always fails (PASSTHROUGH_FAIL_KEYS)`);
      }
      return [{ topic: output, key: record.key, value: record.value }];
    },
  };
}
