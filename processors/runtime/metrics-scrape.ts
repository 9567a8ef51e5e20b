/**
 * Reads a service's Prometheus /metrics: the text exposition format parsed into samples (name, labels,
 * value), and the sum of a metric's samples by name and labels. The one scrape of the tests and of bench/;
 * it lives in the runtime, not in processors/testing, because bench (production tooling) uses it too.
 */

export interface Sample {
  /** The series name as exported: a histogram's `<name>_bucket`, `_sum` and `_count` are three names. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/** One sample line (`name{a="1",b="x\"y"} 3 [timestamp]`), or null for a comment, a blank or a line it cannot read. */
export function parseSampleLine(line: string): Sample | null {
  const name = NAME.exec(line)?.[0];
  if (!name) return null;
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      const key = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i))?.[0];
      if (!key || line[i + key.length] !== '=' || line[i + key.length + 1] !== '"') return null;
      i += key.length + 2;
      let value = '';
      for (; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\') {
          i++;
          value += line[i] === 'n' ? '\n' : (line[i] ?? '');
        } else value += line[i];
      }
      if (i >= line.length) return null;
      i++; // the closing quote
      labels[key] = value;
    }
  }
  const [value] = line.slice(i).trim().split(/\s+/);
  if (!value || line[i] !== ' ') return null;
  return { name, labels, value: parseValue(value) };
}

/** Every sample of a /metrics page (comments and # HELP / # TYPE lines skipped). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const s = parseSampleLine(line);
    if (s) out.push(s);
  }
  return out;
}

/** GET `<baseUrl>/metrics` and parse it; rejects on a failed request, a non-2xx answer or after `timeoutMs`. */
export async function scrapeSamples(baseUrl: string, timeoutMs = 10_000): Promise<Sample[]> {
  const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${baseUrl}/metrics answered ${res.status}`);
  return parseMetrics(text);
}

/** The sum of the samples called `name` whose labels include every pair of `labels`; undefined when none does. */
export function sumSamples(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  let sum: number | undefined;
  for (const s of samples) {
    if (s.name !== name || !Object.entries(labels).every(([k, v]) => s.labels[k] === v)) continue;
    sum = (sum ?? 0) + s.value;
  }
  return sum;
}

/** Scrapes `baseUrl` and sums `name` over the samples with `labels`: 0 when the service exports no such sample. */
export async function metricSum(baseUrl: string, name: string, labels: Readonly<Record<string, string>> = {}, timeoutMs = 10_000): Promise<number> {
  return sumSamples(await scrapeSamples(baseUrl, timeoutMs), name, labels) ?? 0;
}
