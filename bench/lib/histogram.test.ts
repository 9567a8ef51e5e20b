import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram } from './histogram.js';

/** Exact nearest-rank percentile of a sorted array: the reference the histogram must match within 1%. */
function exactPercentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** A deterministic PRNG so a failure can be reproduced. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PERCENTILES = [0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100];

function assertWithinOnePercent(h: Histogram, values: number[], label: string): void {
  const sorted = [...values].sort((a, b) => a - b);
  for (const p of PERCENTILES) {
    const exact = exactPercentile(sorted, p);
    const got = h.percentile(p);
    const tolerance = Math.max(0.5, exact * 0.01);
    assert.ok(Math.abs(got - exact) <= tolerance, `${label} p${p}: got ${got}, exact ${exact}`);
  }
}

test('histogram percentiles match exact values within 1% on a log-normal latency sample', () => {
  const rand = lcg(42);
  const values: number[] = [];
  const h = new Histogram();
  for (let i = 0; i < 100_000; i++) {
    // Box-Muller normal -> log-normal around 2 ms (in microseconds) with a heavy tail
    const n = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const v = Math.round(Math.exp(Math.log(2000) + 1.2 * n));
    values.push(v);
    h.record(v);
  }
  assert.equal(h.count, values.length);
  assert.equal(h.max, Math.max(...values));
  assertWithinOnePercent(h, values, 'log-normal');
});

test('histogram percentiles match exact values within 1% across nine decades', () => {
  const rand = lcg(7);
  const values: number[] = [];
  const h = new Histogram();
  for (let i = 0; i < 50_000; i++) {
    const v = Math.floor(10 ** (rand() * 9)); // 1 .. 1e9
    values.push(v);
    h.record(v);
  }
  assertWithinOnePercent(h, values, 'uniform-log');
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  assert.ok(Math.abs(h.mean - mean) / mean < 1e-9, `mean ${h.mean} vs ${mean}`);
});

test('histogram counts small values exactly and handles the edges of power-of-two ranges', () => {
  const h = new Histogram();
  for (let v = 0; v < 256; v++) h.record(v);
  assert.equal(h.percentile(50), 127);
  assert.equal(h.percentile(100), 255);
  assert.equal(h.percentile(0), 0);
  for (const v of [255, 256, 511, 512, 2 ** 32 - 1, 2 ** 32, 2 ** 40 - 1]) {
    const one = new Histogram();
    one.record(v);
    one.record(v + 1);
    const got = one.percentile(50);
    assert.ok(Math.abs(got - v) <= v * 0.01, `value ${v} came back as ${got}`);
  }
});

test('histogram reports zeros when empty', () => {
  const h = new Histogram();
  assert.equal(h.percentile(99), 0);
  assert.equal(h.max, 0);
  assert.equal(h.mean, 0);
});
