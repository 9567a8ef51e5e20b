import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEV_EXCHANGE, Exchanges, hashKey, loadExchanges, parseExchanges } from './exchanges.js';

const KEY_A1 = 'exa-key-one-0123456789abcdef';
const KEY_A2 = 'exa-key-two-0123456789abcdef';
const KEY_B = 'exb-key-0123456789abcdef';
const base = { exchangesFile: '', exchangesJson: '', apiKey: '', devMode: false };

test('exchanges: a key (hash or plaintext) names its exchange; rotation keys both work; anything else is no one', () => {
  const xs = new Exchanges([
    ...parseExchanges(JSON.stringify({ exchanges: [{ id: 'exa', keyHashes: [hashKey(KEY_A1), hashKey(KEY_A2).toUpperCase()], rateLimit: { rps: 10, burst: 20 }, seat: 's-a', defaultTmaxMs: 120, notices: { billOn: 'burl' } }] }), 'file'),
    ...parseExchanges(JSON.stringify([{ id: 'exb', keys: [KEY_B] }]), 'env'),
  ]);
  assert.equal(xs.authenticate(KEY_A1)?.id, 'exa');
  assert.equal(xs.authenticate(KEY_A2)?.id, 'exa');
  assert.equal(xs.authenticate(KEY_B)?.id, 'exb');
  for (const k of ['', 'nope', KEY_A1.slice(0, -1), `${KEY_A1} `, hashKey(KEY_A1)]) assert.equal(xs.authenticate(k), null, JSON.stringify(k));
  const a = xs.authenticate(KEY_A1)!;
  assert.deepEqual(a.rateLimit, { rps: 10, burst: 20 });
  assert.equal(a.seat, 's-a');
  assert.equal(a.defaultTmaxMs, 120);
  assert.deepEqual(a.notices, { billOn: 'burl' });
  const b = xs.authenticate(KEY_B)!;
  assert.deepEqual([b.rateLimit, b.seat, b.defaultTmaxMs, b.notices], [null, null, null, {}]);
  assert.deepEqual(xs.list.map((e) => e.id), ['exa', 'exb']);
  assert.equal(xs.open, false);
});

test('exchanges: each invalid entry is refused in one line naming the source and the field', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ exchanges: [{ id: 'a b', keys: [KEY_A1] }] }, /^src: exchanges\[0\]\.id must be/],
    [{ exchanges: [{ id: 'a' }] }, /^src: exchanges\[0\] \(a\) has no key/],
    [{ exchanges: [{ id: 'a', keyHashes: ['abc'] }] }, /^src: exchanges\[0\]\.keyHashes\[0\] must be 64 hex/],
    [{ exchanges: [{ id: 'a', keys: ['short'] }] }, /^src: exchanges\[0\]\.keys\[0\] must be 16-512 .*value hidden/],
    [{ exchanges: [{ id: 'a', keys: [KEY_A1], keyhashes: [] }] }, /^src: exchanges\[0\]\.keyhashes is not a known field/],
    [{ exchanges: [{ id: 'a', keys: [KEY_A1], rateLimit: { rps: 0 } }] }, /^src: exchanges\[0\]\.rateLimit\.rps must be/],
    [{ exchanges: [{ id: 'a', keys: [KEY_A1], rateLimit: { rps: 5, burst: 'x' } }] }, /^src: exchanges\[0\]\.rateLimit\.burst must be/],
    [{ exchanges: [{ id: 'a', keys: [KEY_A1], defaultTmaxMs: 5 }] }, /^src: exchanges\[0\]\.defaultTmaxMs must be/],
    [{ exchanges: [{ id: 'a', keys: [KEY_A1], seat: '' }] }, /^src: exchanges\[0\]\.seat must be/],
    [{ exchanges: [{ id: 'a', keys: [KEY_A1], notices: 'burl' }] }, /^src: exchanges\[0\]\.notices must be an object/],
    [{ exchanges: {} }, /^src: exchanges must be an array/],
    [{ exchange: [] }, /^src: unknown field "exchange"/],
    [[{ id: 'a', keys: [KEY_A1] }, 7], /^src: \[1\] must be an object/],
  ];
  for (const [doc, message] of cases) {
    assert.throws(() => parseExchanges(JSON.stringify(doc), 'src'), (err: Error) => message.test(err.message) && !err.message.includes('\n'), JSON.stringify(doc));
  }
  assert.throws(() => parseExchanges('{', 'src'), /: src: is not valid JSON/);
  // A plaintext key is never echoed, even when refused.
  assert.throws(() => parseExchanges(JSON.stringify([{ id: 'a', keys: ['sec ret with spaces 0123'] }]), 'src'), (err: Error) => !err.message.includes('sec ret'));
});

test('exchanges: ids are unique and a key names one exchange', () => {
  assert.throws(() => new Exchanges([...parseExchanges(JSON.stringify([{ id: 'a', keys: [KEY_A1] }, { id: 'a', keys: [KEY_B] }]), 's')]), /exchange id "a" is configured twice/);
  assert.throws(() => new Exchanges(parseExchanges(JSON.stringify([{ id: 'a', keys: [KEY_A1] }, { id: 'b', keyHashes: [hashKey(KEY_A1)] }]), 's')), /"a" and "b" share an API key/);
});

test('exchanges: loading reads the file and the inline JSON together, and names the file it cannot read', () => {
  const warnings: string[] = [];
  const files: Record<string, string> = { '/etc/rtb/exchanges.json': JSON.stringify({ exchanges: [{ id: 'exa', keyHashes: [hashKey(KEY_A1)] }] }) };
  const read = (p: string): string => {
    const text = files[p];
    if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return text;
  };
  const xs = loadExchanges({ ...base, exchangesFile: '/etc/rtb/exchanges.json', exchangesJson: JSON.stringify([{ id: 'exb', keys: [KEY_B] }]) }, (w) => warnings.push(w), read);
  assert.deepEqual(xs.list.map((e) => e.id), ['exa', 'exb']);
  assert.equal(warnings.length, 0, 'hashes in the file, a plaintext key only inline: nothing to warn about');
  assert.throws(() => loadExchanges({ ...base, exchangesFile: '/missing.json' }, () => undefined, read), /: INGEST_EXCHANGES_FILE \/missing\.json: cannot be read \(ENOENT\)$/);
  assert.throws(() => loadExchanges({ ...base, exchangesJson: '[{"id":"x"}]' }, () => undefined, read), /: INGEST_EXCHANGES: \[0\] \(x\) has no key/);
  files['/plain.json'] = JSON.stringify([{ id: 'exa', keys: [KEY_A1] }]);
  loadExchanges({ ...base, exchangesFile: '/plain.json' }, (w) => warnings.push(w), read);
  assert.match(warnings.join('\n'), /plaintext "keys": prefer "keyHashes"/);
});

test('exchanges: none configured refuses to start, unless RTB_DEV_MODE=1 (exchange dev, no key, with a warning)', () => {
  assert.throws(() => loadExchanges(base, () => undefined), /no exchange is configured: set INGEST_EXCHANGES_FILE .* or RTB_DEV_MODE=1/);
  const warnings: string[] = [];
  const dev = loadExchanges({ ...base, devMode: true }, (w) => warnings.push(w));
  assert.equal(dev.open, true);
  assert.equal(dev.authenticate(''), DEV_EXCHANGE);
  assert.equal(dev.authenticate('anything'), DEV_EXCHANGE);
  assert.match(warnings[0] ?? '', /RTB_DEV_MODE=1 and no exchange configured: bid requests are accepted WITHOUT an API key, as exchange "dev"/);
  // Configured exchanges are enforced in development mode too.
  const enforced = loadExchanges({ ...base, devMode: true, exchangesJson: JSON.stringify([{ id: 'exa', keys: [KEY_A1] }]) }, () => undefined);
  assert.equal(enforced.open, false);
  assert.equal(enforced.authenticate(''), null);
});

test('exchanges: the deprecated INGEST_API_KEY is exchange "default"', () => {
  const warnings: string[] = [];
  const xs = loadExchanges({ ...base, apiKey: 'secret' }, (w) => warnings.push(w));
  assert.equal(xs.authenticate('secret')?.id, 'default');
  assert.match(warnings[0] ?? '', /INGEST_API_KEY is deprecated/);
});

test('exchanges: winNotice, noBid and auctionTypes are read, and default to nurl, 204 and second price (DEV_EXCHANGE too)', () => {
  const [a, b] = parseExchanges(JSON.stringify([
    { id: 'a', keys: [KEY_A1], winNotice: 'burl', noBid: 200, auctionTypes: { 500: 1, 501: 2 } },
    { id: 'b', keys: [KEY_B] },
  ]), 'src');
  assert.deepEqual([a!.winNotice, a!.noBid, a!.auctionTypes], ['burl', 200, { 500: 1, 501: 2 }]);
  assert.deepEqual([b!.winNotice, b!.noBid, b!.auctionTypes], ['nurl', 204, {}]);
  assert.deepEqual([DEV_EXCHANGE.winNotice, DEV_EXCHANGE.noBid, DEV_EXCHANGE.auctionTypes], ['nurl', 204, {}]);
  assert.deepEqual([a!.billOn, b!.billOn, DEV_EXCHANGE.billOn], ['burl', 'burl', 'burl'], 'billing on burl unless configured');
  assert.equal(parseExchanges(JSON.stringify([{ id: 'c', keys: [KEY_B], billOn: 'nurl' }]), 'src')[0]!.billOn, 'nurl');
  const xs = new Exchanges([a!, b!]);
  assert.equal(xs.authenticate(KEY_A1)?.winNotice, 'burl', 'kept through authentication');
  assert.equal(xs.authenticate(KEY_A1)?.noBid, 200);
  assert.deepEqual(xs.authenticate(KEY_A1)?.auctionTypes, { 500: 1, 501: 2 });
  const dflt = loadExchanges({ ...base, apiKey: 'secret' }, () => undefined).authenticate('secret')!;
  assert.deepEqual([dflt.winNotice, dflt.noBid, dflt.auctionTypes, dflt.seat], ['nurl', 204, {}, null], 'INGEST_API_KEY\'s exchange has the defaults');
});

test('exchanges: a bad winNotice, noBid or auctionTypes is refused in one line naming the field', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ winNotice: 'lurl' }, /^src: exchanges\[0\]\.winNotice must be "nurl" or "burl"$/],
    [{ winNotice: 1 }, /^src: exchanges\[0\]\.winNotice must be/],
    [{ noBid: 404 }, /^src: exchanges\[0\]\.noBid must be 204 or 200$/],
    [{ billOn: 'lurl' }, /^src: exchanges\[0\]\.billOn must be "burl" or "nurl"$/],
    [{ noBid: '200' }, /^src: exchanges\[0\]\.noBid must be/],
    [{ auctionTypes: [1] }, /^src: exchanges\[0\]\.auctionTypes must be an object/],
    [{ auctionTypes: { 3: 1 } }, /^src: exchanges\[0\]\.auctionTypes\.3 is not an exchange-specific auction type \(an integer >= 500\)$/],
    [{ auctionTypes: { 499: 1 } }, /^src: exchanges\[0\]\.auctionTypes\.499 is not an exchange-specific/],
    [{ auctionTypes: { '500.5': 1 } }, /^src: exchanges\[0\]\.auctionTypes\.500\.5 is not an exchange-specific/],
    [{ auctionTypes: { 500: 3 } }, /^src: exchanges\[0\]\.auctionTypes\.500 must be 1 \(first price\) or 2 \(second price\)$/],
    [{ nobid: 200 }, /^src: exchanges\[0\]\.nobid is not a known field/],
  ];
  for (const [extra, message] of cases) {
    const doc = { exchanges: [{ id: 'a', keys: [KEY_A1], ...extra }] };
    assert.throws(() => parseExchanges(JSON.stringify(doc), 'src'), (err: Error) => message.test(err.message) && !err.message.includes('\n'), JSON.stringify(extra));
  }
});
