import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSimple } from './simple.js';
import { InvalidFieldError } from './fields.js';

const env = { receivedAtMs: 1, ingestNodeId: 'n', openrtbVersion: null };
const valid = () => ({ request_id: 'r1', user_id: 'u1', site: { domain: 'example.com' }, device: { ip: '192.0.2.1', type: 'Mobile' }, floor: 1.25, size: '300x250', country: 'usa' });

test('simple maps the seed format onto one banner impression', () => {
  const r = parseSimple(valid(), env);
  assert.equal(r.id, 'r1');
  assert.equal(r.user?.id, 'u1');
  assert.equal(r.site?.domain, 'example.com');
  assert.equal(r.device?.devicetype, 4);
  assert.equal(r.device?.geo?.country, 'USA');
  assert.equal(r.imp.length, 1);
  assert.equal(r.imp[0]?.bidfloorMicros, 1_250_000);
  assert.deepEqual([r.imp[0]?.banner?.w, r.imp[0]?.banner?.h], [300, 250]);
  assert.equal(r.sourceFormat, 'SIMPLE');
  assert.equal(r.at, 2);
});

test('simple accepts the minimal seed request', () => {
  const r = parseSimple({ request_id: 'demo-001', user_id: 'user-001', site: { domain: 'example.com' }, device: { ip: '192.0.2.1' } }, env);
  assert.equal(r.imp[0]?.bidfloorMicros, 0);
  assert.equal(r.imp[0]?.banner, null);
  assert.equal(r.device?.devicetype, null);
});

test('simple rejects missing and malformed fields naming them', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ ...valid(), request_id: undefined }, 'request_id'],
    [{ ...valid(), user_id: 7 }, 'user_id'],
    [{ ...valid(), site: undefined }, 'site'],
    [{ ...valid(), site: {} }, 'site.domain'],
    [{ ...valid(), device: { type: 'mobile' } }, 'device.ip'],
    [{ ...valid(), device: { ip: '1.1.1.1', type: 'fridge' } }, 'device.type'],
    [{ ...valid(), floor: -0.01 }, 'floor'],
    [{ ...valid(), size: '300 by 250' }, 'size'],
    [{ ...valid(), country: 'America' }, 'country'],
    [{ ...valid(), tmax: 0 }, 'tmax'],
  ];
  for (const [body, field] of cases) {
    assert.throws(() => parseSimple(body, env), (e: unknown) => e instanceof InvalidFieldError && e.field === field, field);
  }
});

test('simple requests carry no privacy signal: recorded unrestricted, with the OpenRTB 2.6 defaults', () => {
  const r = parseSimple(valid(), env);
  assert.deepEqual(r.privacy, { basis: 'unrestricted', personalData: true });
  assert.deepEqual([r.atRequested, r.cattax, r.bapp, r.regs], [0, 1, [], null]);
  assert.deepEqual([r.imp[0]?.native, r.imp[0]?.pmp, r.imp[0]?.banner?.btype, r.imp[0]?.banner?.battr], [false, null, [], []]);
  assert.deepEqual([r.device?.lmt, r.device?.dnt, r.user?.consent], [null, null, null]);
  assert.notEqual(parseSimple(valid(), env).privacy, r.privacy, 'each record its own object');
});
