-- Issue 10: campaigns buy private-marketplace deals and may be deal-only; creatives carry content
-- categories, an app bundle and creative attributes (for exchange block lists) and may be video.
-- Every new column has a default, so existing rows read as before: open auction, no deals, banners.

alter table campaigns
  add column deals jsonb not null default '[]' check (jsonb_typeof(deals) = 'array'),
  add column open_auction boolean not null default true;

comment on column campaigns.deals is 'JSON array of {id, bidCpmMicros | null}: deal ids the campaign bids through (imp.pmp.deals); bidCpmMicros is a fixed deal CPM in micros, null = the campaign bid.';
comment on column campaigns.open_auction is 'false = deal-only: the campaign never bids in the open auction.';

alter table creatives
  add column cat text[] not null default '{}',
  add column cattax int not null default 1 check (cattax > 0),
  add column bundle text,
  add column attr int[] not null default '{}',
  add column video jsonb check (video is null or jsonb_typeof(video) = 'object');

comment on column creatives.cat is 'Content categories of the ad (OpenRTB bid.cat), in taxonomy cattax; matched against the request bcat.';
comment on column creatives.cattax is 'OpenRTB cattax of cat: 1 = IAB Content Category Taxonomy 1.0, 2 = 2.0, ...';
comment on column creatives.bundle is 'The advertised app bundle (matched against the request bapp); null when the ad is not for an app.';
comment on column creatives.attr is 'OpenRTB creative attributes (matched against the imp battr).';
comment on column creatives.video is 'JSON {vastXml, vastTagUrl, durationSec, mimes, protocols} for a video creative (exactly one of vastXml/vastTagUrl non-empty; size = width x height); null = a banner (image_url).';
