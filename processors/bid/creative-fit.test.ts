import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCreative } from '../testing/campaign.fixture.js';
import { fitMtype, isBlocked, requestBlocks, MTYPE_BANNER, MTYPE_VIDEO } from './creative-fit.js';
import { impSizes } from './targeting.js';
import type { BidRequestView, ImpView, ImpVideoView } from './types.js';

const banner = makeCreative({ id: 'b', width: 300, height: 250 });
const video = makeCreative({
  id: 'v', imageUrl: '', width: 640, height: 360,
  video: { vastXml: '<VAST version="4.0"></VAST>', vastTagUrl: '', durationSec: 15, mimes: ['video/mp4'], protocols: [3, 7] },
});
const videoImp = (v: Partial<ImpVideoView> = {}, extra: Partial<ImpView> = {}): ImpView => ({
  id: 'i', bidFloorMicros: 0, banner: null,
  video: { mimes: ['video/mp4', 'video/webm'], minDurationSec: 5, maxDurationSec: 30, protocols: [7], w: 640, h: 360, battr: [], ...v },
  ...extra,
});
const bannerImp = (extra: Partial<ImpView> = {}): ImpView => ({ id: 'i', bidFloorMicros: 0, w: 300, h: 250, banner: { btype: [], battr: [] }, video: null, ...extra });
const fit = (c: typeof banner, imp: ImpView) => fitMtype(c, imp, impSizes(imp));

test('creative-fit: a banner imp takes banner creatives of an accepted size only, never video', () => {
  assert.equal(fit(banner, bannerImp()), MTYPE_BANNER);
  assert.equal(fit(makeCreative({ width: 728, height: 90 }), bannerImp()), null);
  assert.equal(fit(makeCreative({ width: 728, height: 90 }), bannerImp({ formats: [{ w: 728, h: 90 }] })), MTYPE_BANNER);
  assert.equal(fit(video, bannerImp({ w: 640, h: 360 })), null);
  assert.equal(fit(banner, { id: 'i', bidFloorMicros: 0, w: 300, h: 250 }), MTYPE_BANNER, 'a view without banner/video is a banner imp');
});

test('creative-fit: a video imp matches mimes, duration bounds, protocols and size', () => {
  assert.equal(fit(video, videoImp()), MTYPE_VIDEO);
  assert.equal(fit(banner, videoImp({ w: 300, h: 250 })), null, 'no banner in a video-only imp');
  assert.equal(fit(video, videoImp({ mimes: ['VIDEO/MP4'] })), MTYPE_VIDEO, 'mimes case-insensitive');
  assert.equal(fit(video, videoImp({ mimes: ['video/webm'] })), null);
  assert.equal(fit(video, videoImp({ minDurationSec: 16 })), null);
  assert.equal(fit(video, videoImp({ maxDurationSec: 14 })), null);
  assert.equal(fit(video, videoImp({ minDurationSec: null, maxDurationSec: null })), MTYPE_VIDEO);
  assert.equal(fit(video, videoImp({ protocols: [2] })), null);
  assert.equal(fit(video, videoImp({ protocols: [] })), MTYPE_VIDEO, 'no protocol list: any');
  assert.equal(fit(video, videoImp({ w: 1280, h: 720 })), null);
  assert.equal(fit(video, videoImp({ w: null, h: null })), MTYPE_VIDEO, 'no size: any');
});

test('creative-fit: an imp with banner and video takes either format', () => {
  const both = videoImp({}, { w: 300, h: 250, banner: { btype: [], battr: [] } });
  assert.equal(fit(video, both), MTYPE_VIDEO);
  assert.equal(fit(banner, both), MTYPE_BANNER);
});

const req = (r: Partial<BidRequestView>): BidRequestView => ({ id: 'r', imps: [], ...r });

test('creative-fit blocks by bcat (with parent categories) only within the same taxonomy', () => {
  const c = makeCreative({ cat: ['IAB7-39'], cattax: 1 });
  assert.equal(isBlocked(c, MTYPE_BANNER, bannerImp(), requestBlocks(req({ bcat: ['IAB7'] }))), true, 'parent blocks child');
  assert.equal(isBlocked(c, MTYPE_BANNER, bannerImp(), requestBlocks(req({ bcat: ['iab7-39'] }))), true);
  assert.equal(isBlocked(c, MTYPE_BANNER, bannerImp(), requestBlocks(req({ bcat: ['IAB8'] }))), false);
  assert.equal(isBlocked(c, MTYPE_BANNER, bannerImp(), requestBlocks(req({ bcat: ['IAB8'], cattax: 2 }))), true, 'another taxonomy: cannot prove it is not blocked');
  assert.equal(isBlocked(c, MTYPE_BANNER, bannerImp(), requestBlocks(req({ bcat: [], cattax: 2 }))), false);
  assert.equal(isBlocked(makeCreative({ cat: [] }), MTYPE_BANNER, bannerImp(), requestBlocks(req({ bcat: ['IAB8'] }))), false);
});

test('creative-fit blocks by badv (subdomains too, case-insensitive) and by bapp', () => {
  const c = makeCreative({ adomain: ['shop.Brand.com'], bundle: 'com.brand.app' });
  assert.equal(isBlocked(c, MTYPE_BANNER, bannerImp(), requestBlocks(req({ badv: ['brand.com'] }))), true);
  assert.equal(isBlocked(c, MTYPE_BANNER, bannerImp(), requestBlocks(req({ badv: ['SHOP.BRAND.COM'] }))), true);
  assert.equal(isBlocked(c, MTYPE_BANNER, bannerImp(), requestBlocks(req({ badv: ['other.com', 'xbrand.com'] }))), false);
  assert.equal(isBlocked(c, MTYPE_BANNER, bannerImp(), requestBlocks(req({ bapp: ['com.brand.app'] }))), true);
  assert.equal(isBlocked(makeCreative({ bundle: null }), MTYPE_BANNER, bannerImp(), requestBlocks(req({ bapp: ['com.brand.app'] }))), false);
});

test('creative-fit blocks by the battr of the format served and by banner btype 2 (XHTML banner)', () => {
  const c = makeCreative({ attr: [6] });
  const none = requestBlocks(req({}));
  assert.equal(isBlocked(c, MTYPE_BANNER, bannerImp({ banner: { btype: [], battr: [6, 7] } }), none), true);
  assert.equal(isBlocked(c, MTYPE_BANNER, bannerImp({ banner: { btype: [], battr: [7] } }), none), false);
  assert.equal(isBlocked(c, MTYPE_VIDEO, videoImp({ battr: [6] }, { banner: { btype: [], battr: [] } }), none), true);
  assert.equal(isBlocked(c, MTYPE_BANNER, videoImp({ battr: [6] }, { banner: { btype: [], battr: [] } }), none), false, "the video's battr does not block a banner");
  assert.equal(isBlocked(banner, MTYPE_BANNER, bannerImp({ banner: { btype: [2], battr: [] } }), none), true);
  assert.equal(isBlocked(banner, MTYPE_BANNER, bannerImp({ banner: { btype: [1, 3, 4], battr: [] } }), none), false);
});
