import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { InRecord } from '../runtime/processor.js';
import type { BidRequest, UserProfileRecord } from '../../schemas/bid-request.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { enrich, profileUserId, type EnrichContext } from './enrich.js';
import type { ProfileLookup } from './profile-store.js';
import { makeRequest } from '../testing/bid-request.fixture.js';

const alice: UserProfileRecord = { interests: { sports: 80, travel: 20 }, segments: ['s-1', 's-2'], engagement: 42 };

/** An in-memory profile source that records its calls; `mode` makes it fail or never answer. */
class FakeProfiles implements ProfileLookup {
  calls: string[][] = [];
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  constructor(private readonly data: Record<string, UserProfileRecord>) {}
  lookup(ids: readonly string[]): Promise<Map<string, UserProfileRecord | null>> {
    this.calls.push([...ids]);
    if (this.mode === 'fail') return Promise.reject(new Error('ECONNREFUSED'));
    if (this.mode === 'hang') return new Promise(() => undefined);
    return Promise.resolve(new Map(ids.map((id) => [id, this.data[id] ?? null])));
  }
}

function setup(opts: { failures?: number } = {}) {
  const profiles = new FakeProfiles({ alice });
  const registry = new Registry();
  const breaker = new CircuitBreaker({ failureThreshold: opts.failures ?? 5, timeoutMs: 10 });
  const p = enrich({ input: 'in', output: 'out', profiles, breaker, registry });
  const run = async (values: BidRequest[]) => {
    const records: InRecord<BidRequest>[] = values.map((value, i) => ({ topic: 'in', partition: 3, offset: String(i), key: `k-${value.id}`, value, timestampMs: 0 }));
    const ctx: EnrichContext = await p.prepare!(records);
    return (await Promise.all(records.map((r) => p.process(r, ctx)))).flat();
  };
  const metric = async (name: string, labels: Record<string, string>) =>
    (await registry.getSingleMetric(name)?.get())?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
  return { p, profiles, breaker, run, metric };
}

const batch = (): BidRequest[] => [
  makeRequest('r1', { id: 'alice' }),
  makeRequest('r2', { id: 'bob' }),
  makeRequest('r3', null),
  makeRequest('r4', { id: 'alice' }),
  makeRequest('r5', { buyeruid: 'alice' }),
];

test('enrich attaches the profile of known users and marks unknown or anonymous users NO_PROFILE', async () => {
  const { p, profiles, run, metric } = setup();
  assert.deepEqual({ name: p.name, input: p.input, outputs: p.outputs }, { name: 'enrich', input: 'in', outputs: ['out'] });
  const input = batch();
  const out = await run(input);
  assert.equal(out.length, input.length, 'exactly one output per input');
  assert.deepEqual(profiles.calls, [['alice', 'bob']], 'one lookup per batch, distinct users, none for anonymous requests');
  const got = out.map((o) => {
    const v = o.value as BidRequest;
    return [o.topic, o.key, v.id, v.enrichment, v.profile];
  });
  assert.deepEqual(got, [
    ['out', 'k-r1', 'r1', 'ENRICHED', alice],
    ['out', 'k-r2', 'r2', 'NO_PROFILE', null],
    ['out', 'k-r3', 'r3', 'NO_PROFILE', null],
    ['out', 'k-r4', 'r4', 'ENRICHED', alice],
    ['out', 'k-r5', 'r5', 'ENRICHED', alice],
  ]);
  assert.equal(await metric('enrich_profiles_total', { result: 'found' }), 3);
  assert.equal(await metric('enrich_profiles_total', { result: 'missing' }), 1);
  assert.equal(await metric('enrich_unavailable_total', {}), 0);
});

test('enrich keeps everything else the exchange sent and does not mutate its input', async () => {
  const { run } = setup();
  const input = batch();
  const before = structuredClone(input);
  const out = await run(input);
  assert.deepEqual(input, before, 'input records untouched');
  out.forEach((o, i) => {
    const { enrichment, profile, ...rest } = o.value as BidRequest;
    const { enrichment: _e, profile: _p, ...sent } = before[i]!;
    assert.deepEqual(rest, sent, 'user.segments/interests and every other field as sent');
    assert.ok(enrichment !== 'NOT_ATTEMPTED' && (profile === null || enrichment === 'ENRICHED'));
  });
});

test('enrich skips the lookup for a batch without user ids', async () => {
  const { profiles, run } = setup();
  const out = await run([makeRequest('a', null), makeRequest('b', { id: '', buyeruid: null })]);
  assert.deepEqual(profiles.calls, []);
  assert.deepEqual(out.map((o) => (o.value as BidRequest).enrichment), ['NO_PROFILE', 'NO_PROFILE']);
});

test('enrich passes a batch on UNAVAILABLE when the lookup fails or times out, and fast-fails once the circuit opens', async () => {
  const { profiles, breaker, run, metric } = setup({ failures: 2 });
  profiles.mode = 'fail';
  const states = async () => (await run(batch())).map((o) => (o.value as BidRequest).enrichment);
  const expected = ['UNAVAILABLE', 'UNAVAILABLE', 'NO_PROFILE', 'UNAVAILABLE', 'UNAVAILABLE'];
  assert.deepEqual(await states(), expected);
  profiles.mode = 'hang';
  const started = performance.now();
  assert.deepEqual(await states(), expected);
  assert.ok(performance.now() - started < 500, 'a hung store costs one timeout, not a stall');
  assert.equal(breaker.state, 'open');
  profiles.mode = 'ok';
  assert.deepEqual(await states(), expected, 'while open, no lookup and no enrichment');
  assert.equal(profiles.calls.length, 2, 'the open circuit did not call the store');
  assert.equal(await metric('enrich_unavailable_total', { reason: 'error' }), 4);
  assert.equal(await metric('enrich_unavailable_total', { reason: 'timeout' }), 4);
  assert.equal(await metric('enrich_unavailable_total', { reason: 'open' }), 4);
  assert.equal(await metric('enrich_breaker_state', { state: 'open' }), 1);
  assert.equal(await metric('enrich_breaker_state', { state: 'closed' }), 0);
});

test('enrich looks profiles up by user id, else buyer uid', () => {
  assert.equal(profileUserId(makeRequest('x', { id: 'u', buyeruid: 'b' })), 'u');
  assert.equal(profileUserId(makeRequest('x', { id: null, buyeruid: 'b' })), 'b');
  assert.equal(profileUserId(makeRequest('x', { id: null, buyeruid: null })), null);
  assert.equal(profileUserId(makeRequest('x', null)), null);
});

test('enrich never looks up a request whose privacy decision forbids personal data: NOT_ATTEMPTED, counted by basis', async () => {
  const { profiles, run, metric } = setup();
  const withPrivacy = (id: string, basis: string, personalData: boolean): BidRequest => ({ ...makeRequest(id, { id: 'alice' }), privacy: { basis, personalData } });
  const out = await run([
    withPrivacy('coppa', 'coppa', false),
    withPrivacy('gdpr', 'gdpr_no_consent', false),
    withPrivacy('gdpr-2', 'gdpr_no_consent', false),
    withPrivacy('consent', 'consent', true),
    { ...makeRequest('old', { id: 'bob' }), privacy: null },
  ]);
  assert.deepEqual(profiles.calls, [['alice', 'bob']], 'looked up: the consented request\'s user and the old record\'s (null = unrestricted)');
  assert.deepEqual(out.map((o) => [(o.value as BidRequest).id, (o.value as BidRequest).enrichment, (o.value as BidRequest).profile]), [
    ['coppa', 'NOT_ATTEMPTED', null],
    ['gdpr', 'NOT_ATTEMPTED', null],
    ['gdpr-2', 'NOT_ATTEMPTED', null],
    ['consent', 'ENRICHED', alice],
    ['old', 'NO_PROFILE', null],
  ]);
  assert.equal(await metric('enrich_profile_skipped_total', { basis: 'coppa' }), 1);
  assert.equal(await metric('enrich_profile_skipped_total', { basis: 'gdpr_no_consent' }), 2);
  assert.equal(await metric('enrich_profile_skipped_total', { basis: 'consent' }), 0);

  // A batch of only restricted requests spends no lookup at all.
  profiles.calls.length = 0;
  await run([withPrivacy('lmt', 'lmt', false)]);
  assert.deepEqual(profiles.calls, []);
});
