/**
 * The pass-through processor: every record out unchanged to another topic. It costs only what the
 * runner costs, so it is the baseline of the processor benchmarks and the subject of the runner's
 * exactly-once tests.
 */
import type { Processor } from '../runtime/processor.js';

export function passThrough<T>(name: string, input: string, output: string): Processor<T> {
  return {
    name,
    input,
    outputs: [output],
    process: (record) => [{ topic: output, key: record.key, value: record.value }],
  };
}
