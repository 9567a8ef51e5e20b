import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAdvertiser, checkCampaign, checkCreative } from './requests.js';
import { isJsonContentType } from './json-body.js';
import { makeCampaign, makeCreative } from '../testing/campaign.fixture.js';

const fields = (r: { ok: boolean; errors?: readonly { field: string }[] }): string[] => (r.ok ? [] : (r.errors ?? []).map((e) => e.field));

test('checkAdvertiser uses the given id or the generated one, and names bad fields', () => {
  assert.deepEqual(checkAdvertiser({ name: ' Acme ' }, 'adv-new'), { ok: true, value: { id: 'adv-new', name: 'Acme' } });
  assert.deepEqual(checkAdvertiser({ id: 'adv-1', name: 'Acme' }, 'adv-new'), { ok: true, value: { id: 'adv-1', name: 'Acme' } });
  assert.deepEqual(fields(checkAdvertiser({ id: 'a/b', name: 'x' }, 'n')), ['id']);
  assert.deepEqual(fields(checkAdvertiser({ id: 'ok' }, 'n')), ['name']);
  assert.deepEqual(fields(checkAdvertiser({ name: 'x', colour: 'red' }, 'n')), ['colour']);
  assert.deepEqual(fields(checkAdvertiser('x', 'n')), ['']);
});

test('checkCampaign takes the body id, else the new id, and sets updatedAtMs from the given time', () => {
  const { id: _id, ...noId } = makeCampaign();
  const r = checkCampaign({ ...noId, updatedAtMs: 5 }, { newId: 'cmp-new' }, 1234);
  assert.ok(r.ok);
  assert.equal(r.value.id, 'cmp-new');
  assert.equal(r.value.updatedAtMs, 1234, 'a client-sent updatedAtMs is ignored');
  const withId = checkCampaign({ ...noId, id: 'cmp-mine' }, { newId: 'cmp-new' }, 1);
  assert.ok(withId.ok);
  assert.equal(withId.value.id, 'cmp-mine');
});

test('checkCampaign on update takes the path id and refuses a different body id', () => {
  const c = makeCampaign({ id: 'cmp-1' });
  assert.ok(checkCampaign(c, { pathId: 'cmp-1', newId: 'cmp-1' }, 1).ok);
  const { id: _id, ...noId } = c;
  const r = checkCampaign(noId, { pathId: 'cmp-1', newId: 'cmp-1' }, 1);
  assert.ok(r.ok);
  assert.equal(r.value.id, 'cmp-1');
  assert.deepEqual(fields(checkCampaign(makeCampaign({ id: 'cmp-2' }), { pathId: 'cmp-1', newId: 'cmp-1' }, 1)), ['id']);
});

test('checkCampaign reports id-pattern and validation errors together', () => {
  assert.deepEqual(fields(checkCampaign(makeCampaign({ id: 'bad id', bidCpmMicros: 0 }), { newId: 'n' }, 1)), ['id', 'bidCpmMicros']);
});

test('checkCreative validates one creative with unprefixed field names', () => {
  assert.deepEqual(checkCreative(makeCreative()), { ok: true, value: makeCreative() });
  assert.deepEqual(fields(checkCreative({ ...makeCreative(), width: 0, landingUrl: 'nope' })), ['landingUrl', 'width']);
  assert.deepEqual(fields(checkCreative({ ...makeCreative(), id: 'has space' })), ['id']);
  const notObject = checkCreative(7);
  assert.equal(notObject.ok, false);
  assert.match(notObject.ok ? '' : notObject.errors[0]!.message, /^creative must be an object/);
});

test('isJsonContentType accepts JSON media types in utf-8 only', () => {
  for (const ok of ['application/json', 'Application/JSON; charset=UTF-8', 'application/merge-patch+json', 'application/json;charset="utf-8"']) assert.equal(isJsonContentType(ok), true, ok);
  for (const bad of [undefined, '', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/jsonp']) assert.equal(isJsonContentType(bad), false, String(bad));
});
