import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editDocument, videoMarkup, wrapperDocument } from './vast.js';

const t = { impression: 'https://edge.example/notice/imp?t=AB', click: 'https://edge.example/notice/click?t=AB' };
const IMP = '<Impression><![CDATA[https://edge.example/notice/imp?t=AB]]></Impression>';
const CLICK = '<ClickTracking><![CDATA[https://edge.example/notice/click?t=AB]]></ClickTracking>';
const doc = (linear: string, extra = ''): string =>
  `<?xml version="1.0"?><VAST version="4.1"><Ad><InLine><AdSystem>s</AdSystem>${extra}<Creatives><Creative><Linear>${linear}</Linear></Creative></Creatives></InLine></Ad></VAST>`;

test('vast inserts our impression before the creative\'s own (or before Creatives) and keeps everything else byte for byte', () => {
  const own = doc('<Duration>00:00:10</Duration>', '<Impression id="x">https://theirs/imp</Impression>');
  const out = editDocument(own, t)!;
  assert.equal(out.replace(IMP, '').replace(`<VideoClicks>${CLICK}</VideoClicks>`, ''), own, 'only our elements added');
  assert.ok(out.indexOf(IMP) < out.indexOf('<Impression id="x">'));
  const none = editDocument(doc('<Duration>00:00:10</Duration>'), t)!;
  assert.ok(none.includes(`${IMP}<Creatives>`));
});

test('vast puts our ClickTracking after the ClickThrough, into an empty or self-closing VideoClicks, or adds VideoClicks after MediaFiles', () => {
  assert.ok(editDocument(doc('<VideoClicks><ClickThrough>u</ClickThrough><CustomClick>c</CustomClick></VideoClicks>'), t)!.includes(`</ClickThrough>${CLICK}<CustomClick>`));
  assert.ok(editDocument(doc('<VideoClicks id="v"></VideoClicks>'), t)!.includes(`<VideoClicks id="v">${CLICK}</VideoClicks>`));
  assert.ok(editDocument(doc('<VideoClicks/>'), t)!.includes(`<Linear><VideoClicks>${CLICK}</VideoClicks></Linear>`));
  assert.ok(editDocument(doc('<MediaFiles><MediaFile>m</MediaFile></MediaFiles><TrackingEvents/>'), t)!.includes(`</MediaFiles><VideoClicks>${CLICK}</VideoClicks><TrackingEvents/>`));
  const nonLinear = doc('').replace('<Linear></Linear>', '<NonLinearAds><NonLinear/></NonLinearAds>');
  const out = editDocument(nonLinear, t)!;
  assert.ok(out.includes(IMP) && !out.includes(CLICK), 'no Linear: the impression only');
});

test('vast ignores tags inside comments and CDATA, and refuses documents it cannot place our trackers in', () => {
  const tricky = doc('<VideoClicks><ClickThrough><![CDATA[https://x/?a=</ClickThrough><Creatives>]]></ClickThrough></VideoClicks>', '<!-- <Impression>no</Impression> -->');
  const out = editDocument(tricky, t)!;
  assert.ok(out.includes(`${IMP}<Creatives>`), 'not inside the comment');
  assert.ok(out.includes(`]]></ClickThrough>${CLICK}</VideoClicks>`), 'after the real ClickThrough, not the one in CDATA');
  for (const bad of ['', 'not xml', '<VAST/>', '<VAST><Ad><InLine><AdSystem>s</AdSystem></InLine></Ad></VAST>', '<VAST><Ad><InLine><Creatives>', '<html><InLine><Creatives/></InLine></html>']) {
    assert.equal(editDocument(bad, t), null, bad);
  }
});

test('vast wraps a tag URL in a VAST 4.2 Wrapper, CDATA safe, and falls back to it when the XML cannot be edited', () => {
  const w = wrapperDocument('r1:1', 'https://ads.example/v?a=1&b=]]>x', t);
  assert.ok(w.startsWith('<?xml version="1.0" encoding="UTF-8"?><VAST version="4.2"><Ad id="r1:1"><Wrapper><AdSystem>rtb-pipeline</AdSystem>'));
  assert.ok(w.includes(`${IMP}<Creatives><Creative><Linear><VideoClicks>${CLICK}</VideoClicks></Linear></Creative></Creatives>`));
  assert.ok(w.includes('<VASTAdTagURI><![CDATA[https://ads.example/v?a=1&b=]]]]><![CDATA[>x]]></VASTAdTagURI>'), 'a ]]> in a URL cannot end the section');
  assert.equal(videoMarkup('id', 'garbage', 'https://ads.example/v', t), wrapperDocument('id', 'https://ads.example/v', t));
  assert.equal(videoMarkup('id', doc(''), 'https://ads.example/v', t), editDocument(doc(''), t), 'editable XML wins over the tag');
  assert.equal(videoMarkup('id', 'garbage', '', t), null);
  assert.equal(wrapperDocument('a"<b', 'u', t).includes('<Ad id="a&#34;&#60;b">'), true);
});
