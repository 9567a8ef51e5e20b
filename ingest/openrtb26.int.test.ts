/**
 * OpenRTB 2.6 through the real edge (issue 10), against the real stack: the specification's example
 * requests (simple banner, mobile, video, PMP with direct deals; adapted from OpenRTB 2.6 section 6.2, with
 * our additions: regs.gdpr with a TCF consent string, COPPA, block lists, the 2.5 regs.ext / user.ext forms,
 * US privacy, GPP, at 500, devicetype 8, cur EUR) are accepted and land on the bid-requests topic with every
 * field mapped and the privacy basis decided; refusals name their field. Then, with enrich, bid and auction
 * as real processes: an exchange configured `noBid: 200` gets a no-bid as 200 with the outcome's nbr,
 * an exchange with the default gets 204.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { spawnEdge, type EdgeProcess } from '../processors/testing/spawn-edge.js';
import { spawnService, type ServiceProcess } from '../processors/testing/spawn-service.js';
import { loadConfig, commonSpecs } from '../schemas/config.js';
import { createLogger } from '../processors/runtime/logger.js';
import { createKafka, ensureTopics, type Producer } from '../processors/runtime/kafka.js';
import { readTopic } from '../processors/runtime/read-topic.js';
import { AvroCodec } from '../schemas/codec.js';
import { loadSchema, subjectFor } from '../schemas/topics.js';
import type { BidRequest } from '../schemas/bid-request.js';
import { campaignToRecord } from '../processors/domain/campaign-record.js';
import { makeCampaign, makeCreative } from '../processors/testing/campaign.fixture.js';
import { IAB_GPP_USNAT, TEST_VENDOR, gppString, tcString } from '../processors/testing/consent.fixture.js';

const cfg = loadConfig(commonSpecs);
const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'openrtb26-test', log: createLogger('test', 'silent') });
const codec = new AvroCodec(cfg.schemaRegistryUrl);
const run = randomUUID().slice(0, 8);
const T = { req: `o26-req-${run}`, preq: `o26-preq-${run}`, enr: `o26-enr-${run}`, bids: `o26-bids-${run}`, out: `o26-out-${run}`, camps: `o26-camps-${run}`, tracking: `o26-tracking-${run}` };
const KEYS = { a: randomBytes(24).toString('base64url'), b: randomBytes(24).toString('base64url') };
const procs: Array<EdgeProcess | ServiceProcess> = [];

before(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [
    ...[T.req, T.preq, T.enr, T.bids, T.out, T.tracking].map((topic) => ({ topic, numPartitions: 2, replicationFactor: 1 })),
    { topic: T.camps, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
  ]);
  await admin.disconnect();
});

after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(T) }).catch(() => undefined);
  await admin.disconnect();
});

async function post(url: string, body: unknown, apiKey: string) {
  const res = await fetch(`${url}/openrtb2/bid`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-openrtb-version': '2.6', 'x-api-key': apiKey }, body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

const CONSENT = tcString([1, 2, 3, 4, 7], [TEST_VENDOR]);
const id = (name: string) => `${name}-${run}`;

// OpenRTB 2.6 example 1, simple banner; with GDPR and a consent string that grants purposes 1, 3 and 4.
const simpleBanner = {
  id: id('banner'), at: 1, cur: ['USD'],
  imp: [{ id: '1', bidfloor: 0.03, banner: { h: 250, w: 300, pos: 0 } }],
  site: { id: '102855', cat: ['IAB3-1'], domain: 'www.foobar.com', page: 'http://www.foobar.com/1234.html', publisher: { id: '8953', name: 'foobar.com', cat: ['IAB3-1'], domain: 'foobar.com' } },
  device: { ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_6_8) AppleWebKit/537.13 (KHTML, like Gecko) Version/5.1.7 Safari/534.57.2', ip: '123.145.167.10' },
  user: { id: '55816b39711f9b5acf3b90e313ed29e51665623f', consent: CONSENT },
  regs: { gdpr: 1 },
};
// Example 3, mobile app (its bcat/badv, banner btype/battr, dnt 0); with bapp, cattax and a US privacy string not opted out.
const mobile = {
  id: id('mobile'), at: 2, bcat: ['IAB25', 'IAB7-39', 'IAB8-18', 'IAB8-5', 'IAB9-9'], badv: ['apple.com', 'go-text.me', 'heywire.com'], bapp: ['com.blocked.app'], cattax: 1,
  imp: [{ id: '1', bidfloor: 0.5, instl: 0, tagid: 'agltb3B1Yi1pbmNyDQsSBFNpdGUY7fD0FAw', banner: { w: 728, h: 90, pos: 1, btype: [4], battr: [14], api: [3] } }],
  app: { id: 'agltb3B1Yi1pbmNyDAsSA0FwcBiJkfIUDA', name: 'Yahoo Weather', cat: ['IAB15', 'IAB15-10'], ver: '1.0.2', bundle: '12345', storeurl: 'https://itunes.apple.com/id628677149', publisher: { id: 'agltb3B1Yi1pbmNyDAsSA0FwcBiJkfTUCV', name: 'yahoo', domain: 'www.yahoo.com' } },
  device: {
    dnt: 0, ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 6_1 like Mac OS X) AppleWebKit/534.46 (KHTML, like Gecko) Version/5.1 Mobile/9A334 Safari/7534.48.3', ip: '123.145.167.189',
    ifa: 'AA000DFE74168477C70D291f574D344790E0BB11', carrier: 'VERIZON', language: 'en', make: 'Apple', model: 'iPhone', os: 'iOS', osv: '6.1', js: 1, connectiontype: 3, devicetype: 1,
    geo: { lat: 35.012345, lon: -115.12345, country: 'USA', metro: '803', region: 'CA', city: 'Los Angeles', zip: '90049' },
  },
  user: { id: 'ffffffd5135596709273b3a1a07e466ea2bf4fff', yob: 1984, gender: 'M' },
  regs: { us_privacy: '1YNN' },
};
// Example 4, video; a COPPA site.
const video = {
  id: id('video'), at: 2, tmax: 120,
  imp: [{
    id: '1', bidfloor: 0.03,
    video: {
      w: 640, h: 480, pos: 1, startdelay: 0, minduration: 5, maxduration: 30, maxextended: 30, minbitrate: 300, maxbitrate: 1500, api: [1, 2], protocols: [2, 3],
      mimes: ['video/x-flv', 'video/mp4', 'application/x-shockwave-flash', 'application/javascript'], linearity: 1, boxingallowed: 1, playbackmethod: [1, 3], delivery: [2], battr: [13, 14],
    },
  }],
  site: { id: '1345135123', name: 'Site ABCD', domain: 'siteabcd.com', cat: ['IAB2-1', 'IAB2-2'], page: 'http://siteabcd.com/page.htm', ref: 'http://referringsite.com/referringpage.htm', privacypolicy: 1, publisher: { id: 'pub12345', name: 'Publisher A' } },
  device: { ip: '64.124.253.1', ua: 'Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; en-US; rv:1.9.2.16) Gecko/20110319 Firefox/3.6.16', os: 'OS X', js: 1 },
  user: { id: '456789876567897654678987656789', buyeruid: '545678765467876567898765678987654', data: [{ id: '6', name: 'Data Provider 1', segment: [{ id: '12341318394918', name: 'auto intenders' }, { id: '23423424', name: 'data-provider1-age', value: '30-40' }] }] },
  regs: { coppa: 1 },
};
// Example 5, PMP with direct deals; GDPR in the 2.5 forms with a consent string that cannot be decoded (no consent, not a 400).
const pmp = {
  id: id('pmp'), at: 1, cur: ['USD'],
  imp: [{
    id: '1', bidfloor: 0.03, banner: { h: 250, w: 300, pos: 0 },
    pmp: { private_auction: 1, deals: [{ id: 'AB-Agency1-0001', at: 1, bidfloor: 2.5, wseat: ['Agency1'] }, { id: 'XY-Agency2-0001', at: 2, bidfloor: 2, bidfloorcur: 'EUR', wseat: ['Agency2'], wadomain: ['agency2.example'] }] },
  }],
  site: { id: '102855', cat: ['IAB3-1'], domain: 'www.foobar.com', page: 'http://www.foobar.com/1234.html', publisher: { id: '8953', name: 'foobar.com' } },
  device: { ip: '123.145.167.10' },
  user: { id: '55816b39711f9b5acf3b90e313ed29e51665623f', ext: { consent: 'not-a-tcf-string' } },
  regs: { ext: { gdpr: 1 } },
};
// Beyond the examples: an exchange-specific auction type (500, first price for exchange a), an out-of-home screen, a floor in EUR, a GPP opt-out.
const dooh = {
  id: id('dooh'), at: 500, cur: ['EUR'],
  imp: [{ id: '1', bidfloor: 1.2, bidfloorcur: 'EUR', banner: { w: 1920, h: 1080 } }, { id: '2', native: { request: '{"ver":"1.2"}' } }],
  site: { domain: 'screens.example' },
  device: { ip: '192.0.2.8', devicetype: 8, lmt: 0 },
  regs: { gpp: gppString('usnat', { SaleOptOutNotice: 1, SaleOptOut: 1 }), gpp_sid: [7] },
};
// A GPP string of IAB's own documentation, nobody opted out, on a limited-ad-tracking device.
const lmt = { id: id('lmt'), imp: [{ id: '1', banner: { w: 300, h: 250 } }], site: { domain: 'x.example' }, device: { ip: '192.0.2.9', lmt: 1 }, regs: { gpp: IAB_GPP_USNAT, gpp_sid: [7] } };

test('openrtb 2.6: the specification\'s examples through the real edge land mapped, with their privacy basis; refusals name the field', async () => {
  const edge = await spawnEdge({
    INGEST_TOPIC: T.req, INGEST_TRACKING_TOPIC: T.tracking, RTB_DEV_MODE: '0', INGEST_GVL_VENDOR_ID: String(TEST_VENDOR),
    INGEST_EXCHANGES: JSON.stringify([{ id: 'exa', keys: [KEYS.a], auctionTypes: { 500: 1 } }]),
  });
  procs.push(edge);
  for (const body of [simpleBanner, mobile, video, pmp, dooh, lmt]) {
    const r = await post(edge.url, body, KEYS.a);
    assert.equal(r.status, 202, `${body.id}: ${JSON.stringify(r.json)}`);
  }
  const refused: Array<[unknown, string]> = [
    [{ ...simpleBanner, id: id('dup'), imp: [{ id: '1' }, { id: '1' }] }, 'imp[1].id'],
    [{ ...simpleBanner, id: id('cur'), cur: ['XYZ'] }, 'cur[0]'],
    [{ ...pmp, id: id('dealcur'), imp: [{ id: '1', pmp: { deals: [{ id: 'd', bidfloorcur: 'EURO' }] } }] }, 'imp[0].pmp.deals[0].bidfloorcur'],
    [{ ...simpleBanner, id: id('at'), at: 3 }, 'at'],
    [{ ...video, id: id('dur'), imp: [{ id: '1', video: { minduration: 30, maxduration: 5 } }] }, 'imp[0].video.maxduration'],
    [{ ...simpleBanner, id: id('gdpr'), regs: { gdpr: 'yes' } }, 'regs.gdpr'],
    [{ ...mobile, id: id('dt'), device: { devicetype: 9 } }, 'device.devicetype'],
  ];
  for (const [body, field] of refused) {
    const r = await post(edge.url, body, KEYS.a);
    assert.equal(r.status, 400, field);
    assert.equal(r.json?.field, field);
    assert.equal(r.json?.error, 'invalid_request');
  }

  const records = await readTopic(kafka, T.req, { timeoutMs: 20_000 });
  const byId = new Map<string, BidRequest>();
  for (const r of records) {
    const v = await codec.decode<BidRequest>(r.value as Buffer);
    // Plain objects (the decoder's are instances of Avro record classes), so deepEqual compares the fields alone.
    byId.set(v.id, JSON.parse(JSON.stringify(v)) as BidRequest);
  }
  assert.deepEqual([...byId.keys()].sort(), [simpleBanner, mobile, video, pmp, dooh, lmt].map((b) => b.id).sort(), 'the accepted requests, none of the refused');
  const get = (i: string) => byId.get(i)!;

  const b = get(simpleBanner.id);
  assert.deepEqual([b.at, b.atRequested, b.cur, b.exchange], [1, 1, ['USD'], 'exa']);
  assert.equal(b.imp[0]?.bidfloorMicros, 30_000);
  assert.deepEqual(b.regs, { coppa: false, gdpr: true, usPrivacy: null, gpp: null, gppSid: [] });
  assert.equal(b.user?.consent, CONSENT);
  assert.deepEqual(b.privacy, { basis: 'consent', personalData: true }, 'consent to purposes 1, 3, 4 and to our vendor (INGEST_GVL_VENDOR_ID)');

  const m = get(mobile.id);
  assert.deepEqual([m.bcat, m.badv, m.bapp, m.cattax], [mobile.bcat, mobile.badv, ['com.blocked.app'], 1]);
  assert.deepEqual([m.imp[0]?.banner?.btype, m.imp[0]?.banner?.battr], [[4], [14]]);
  assert.deepEqual([m.device?.devicetype, m.device?.dnt, m.device?.lmt], [1, false, null]);
  assert.equal(m.app?.bundle, '12345');
  assert.equal(m.regs?.usPrivacy, '1YNN');
  assert.deepEqual(m.privacy, { basis: 'unrestricted', personalData: true });

  const v = get(video.id);
  assert.deepEqual(v.imp[0]?.video, { mimes: video.imp[0]!.video.mimes, w: 640, h: 480, ext: v.imp[0]?.video?.ext ?? null, minduration: 5, maxduration: 30, protocols: [2, 3], battr: [13, 14] });
  assert.equal(JSON.parse(v.imp[0]?.video?.ext ?? '{}').linearity, 1, 'unmapped video fields kept in ext');
  assert.equal(v.regs?.coppa, true);
  assert.deepEqual(v.privacy, { basis: 'coppa', personalData: false });
  assert.deepEqual(v.user?.segments, ['12341318394918', '23423424']);

  const p = get(pmp.id);
  assert.deepEqual(p.imp[0]?.pmp, {
    privateAuction: true,
    deals: [
      { id: 'AB-Agency1-0001', bidfloorMicros: 2_500_000, bidfloorcur: 'USD', at: 1, wseat: ['Agency1'], wadomain: [] },
      { id: 'XY-Agency2-0001', bidfloorMicros: 2_000_000, bidfloorcur: 'EUR', at: 2, wseat: ['Agency2'], wadomain: ['agency2.example'] },
    ],
  });
  assert.deepEqual([p.regs?.gdpr, p.user?.consent], [true, 'not-a-tcf-string'], 'the 2.5 forms regs.ext.gdpr and user.ext.consent');
  assert.deepEqual(p.privacy, { basis: 'gdpr_no_consent', personalData: false }, 'an undecodable consent string is no consent');

  const d = get(dooh.id);
  assert.deepEqual([d.at, d.atRequested, d.cur, d.device?.devicetype, d.device?.lmt], [1, 500, ['EUR'], 8, false], 'at 500 is first price for exchange exa');
  assert.deepEqual([d.imp[0]?.bidfloorMicros, d.imp[0]?.bidfloorcur, d.imp[0]?.native, d.imp[1]?.native], [1_200_000, 'EUR', false, true]);
  assert.deepEqual(d.regs?.gppSid, [7]);
  assert.deepEqual(d.privacy, { basis: 'gpp_opt_out', personalData: false });

  assert.deepEqual(get(lmt.id).privacy, { basis: 'lmt', personalData: false });
  await edge.stop();
});

test('openrtb 2.6: a no-bid is 200 with the outcome\'s nbr for an exchange configured noBid: 200, and 204 by default', async () => {
  let producer: Producer | null = null;
  try {
    // The only campaign targets France: the requests below (USA) match none.
    const campaign = makeCampaign({
      id: `cmp-o26-${run}`, advertiserId: `adv-o26-${run}`, bidCpmMicros: 2_000_000, updatedAtMs: 1, targeting: { country: ['FRA'] },
      creatives: [makeCreative({ id: `cr-o26-${run}`, width: 300, height: 250 })],
    });
    await codec.register(subjectFor(T.camps), loadSchema('campaign.avsc'));
    producer = kafka.producer({ 'linger.ms': 2 });
    await producer.connect();
    await producer.send({ topic: T.camps, messages: [{ key: campaign.id, value: codec.encode(subjectFor(T.camps), campaignToRecord(campaign)) }] });

    const proc = (name: string): Record<string, string> => ({ PROCESSOR_INSTANCE_ID: 'a', TOPIC_PARTITIONS: '2', [`${name.toUpperCase()}_NAME`]: `${name}-o26-${run}` });
    procs.push(
      await spawnService('processors/enrich/main.ts', 'PROCESSOR_HTTP_PORT', { ...proc('enrich'), ENRICH_INPUT: T.preq, ENRICH_OUTPUT: T.enr }, 60_000),
      await spawnService('processors/bid/main.ts', 'PROCESSOR_HTTP_PORT', { ...proc('bid'), BID_INPUT: T.enr, BID_OUTPUT: T.bids, BID_CAMPAIGNS_TOPIC: T.camps }, 60_000),
      await spawnService('processors/auction/main.ts', 'PROCESSOR_HTTP_PORT', { ...proc('auction'), AUCTION_INPUT: T.bids, AUCTION_OUTPUT: T.out }, 60_000),
    );
    const edge = await spawnEdge({
      INGEST_TOPIC: T.preq, INGEST_OUTCOMES_TOPIC: T.out, INGEST_TRACKING_TOPIC: T.tracking, INGEST_OPENRTB_MODE: 'sync', TOPIC_PARTITIONS: '2',
      INGEST_MAX_TMAX_MS: '20000', RTB_DEV_MODE: '0',
      INGEST_EXCHANGES: JSON.stringify([{ id: 'ex200', keys: [KEYS.a], noBid: 200 }, { id: 'ex204', keys: [KEYS.b] }]),
    }, 60_000);
    procs.push(edge);

    const request = (rid: string) => ({
      id: rid, tmax: 20_000, imp: [{ id: '1', banner: { w: 300, h: 250 } }], site: { domain: 'news.example.com' },
      device: { ip: '192.0.2.1', devicetype: 2, geo: { country: 'USA' } }, user: { id: `o26-user-${run}` },
    });
    // A generous tmax: the outcome (no campaign matched), not the deadline, decides the answer.
    const a = await post(edge.url, request(id('nobid-200')), KEYS.a);
    assert.equal(a.status, 200, JSON.stringify(a.json));
    assert.deepEqual(a.json, { id: id('nobid-200'), seatbid: [], nbr: 500 }, 'nbr 500: no campaign matched (processors/auction/no-bid-reasons.ts)');
    const b = await post(edge.url, request(id('nobid-204')), KEYS.b);
    assert.equal(b.status, 204);
    assert.equal(b.json, null);
  } finally {
    await producer?.disconnect();
  }
});
