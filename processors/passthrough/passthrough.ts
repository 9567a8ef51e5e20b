/**
 * The pass-through processor: every record out unchanged to another topic. It costs only what the
 * runner costs, so it is the baseline of the processor benchmarks and the subject of the runner's
 * exactly-once and at-least-once tests. A copy is idempotent, so either delivery is valid for it.
 */
import type { Delivery, Processor } from '../runtime/processor.js';

export function passThrough<T>(name: string, input: string, output: string, delivery: Delivery = 'exactly-once'): Processor<T> {
  return {
    name,
    delivery,
    input,
    outputs: [output],
    process: (record) => [{ topic: output, key: record.key, value: record.value }],
  };
}
