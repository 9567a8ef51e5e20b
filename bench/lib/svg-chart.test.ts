import { test } from 'node:test';
import assert from 'node:assert/strict';
import { niceTicks, renderSvg } from './svg-chart.js';

/** Throws unless every tag is closed in order and attributes are quoted: enough XML to catch a broken chart. */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-z]+)((?:\s+[a-zA-Z][a-zA-Z0-9:-]*="[^"<]*")*)\s*(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (self) continue;
    if (close) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.equal(svg.replace(/<[^>]*>/g, '').includes('<'), false, 'a stray < in text');
}

test('renderSvg draws one line per series with its legend, breaks lines at nulls and escapes text', () => {
  const svg = renderSvg([
    {
      title: 'latency <sync> & async', xLabel: 'offered req/s', yLabel: 'ms', logY: true,
      series: [
        { name: 'p50', points: [[250, 4], [500, 5], [1000, 9]] },
        { name: 'p99', points: [[250, 20], [400, 30], [500, null], [1000, 80], [2000, 300]] },
      ],
      marks: [{ y: 100, label: 'tmax 100 ms' }],
    },
    { title: 'lag', xLabel: 's', yLabel: 'records', series: [{ name: 'only one point', points: [[3, 7]] }] },
  ]);
  assertWellFormed(svg);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal(svg.match(/<polyline /g)?.length, 3, 'p50, and p99 in two pieces around its null');
  assert.equal(svg.match(/<circle /g)?.length, 1, 'a one-point series is a dot');
  for (const label of ['>p50<', '>p99<', '>only one point<', '>tmax 100 ms<', 'latency &lt;sync&gt; &amp; async']) assert.ok(svg.includes(label), label);
});

test('renderSvg survives empty and degenerate input', () => {
  assertWellFormed(renderSvg([]));
  assertWellFormed(renderSvg([{ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'flat', points: [[1, 0], [1, 0]] }] }]));
  assertWellFormed(renderSvg([{ title: 't', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 'zeros', points: [[1, 0], [2, 0]] }] }]));
});

test('niceTicks picks round steps covering the range', () => {
  assert.deepEqual(niceTicks(0, 10), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0, 2000, 4), [0, 500, 1000, 1500, 2000]);
  assert.deepEqual(niceTicks(5, 5), [5]);
});
