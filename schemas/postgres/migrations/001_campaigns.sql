-- Campaign management: Postgres is the source of truth; every change is also published to the
-- compacted `campaigns` topic (processors/campaigns/publisher.ts). Money is bigint micros
-- (1 currency unit = 1,000,000 micros), never numeric or float, so sums are exact and match the
-- Avro longs; times are UTC epoch milliseconds (bigint), like the records on the topic.

create table advertisers (
  id text primary key check (id ~ '^[A-Za-z0-9._:-]{1,200}$'),
  name text not null check (length(btrim(name)) > 0),
  created_at timestamptz not null default now()
);

comment on table advertisers is 'Advertisers owning campaigns (campaign management API).';
comment on column advertisers.id is 'Stable id chosen by the client or the API (URL-safe: it appears in paths).';
comment on column advertisers.name is 'Display name.';
comment on column advertisers.created_at is 'When the advertiser was created (UTC).';

create table campaigns (
  id text primary key check (id ~ '^[A-Za-z0-9._:-]{1,200}$'),
  advertiser_id text not null references advertisers (id),
  name text not null check (length(btrim(name)) > 0),
  status text not null check (status in ('active', 'paused', 'ended')),
  bid_cpm_micros bigint not null check (bid_cpm_micros > 0),
  daily_budget_micros bigint not null check (daily_budget_micros > 0),
  lifetime_budget_micros bigint not null check (lifetime_budget_micros > 0),
  start_ms bigint not null check (start_ms >= 0),
  end_ms bigint check (end_ms is null or end_ms > start_ms),
  timezone text not null default 'UTC',
  dayparting jsonb not null default '[]' check (jsonb_typeof(dayparting) = 'array'),
  frequency_cap jsonb check (frequency_cap is null or jsonb_typeof(frequency_cap) = 'object'),
  pacing text not null default 'even' check (pacing in ('even', 'asap')),
  targeting jsonb not null default '{}' check (jsonb_typeof(targeting) = 'object'),
  updated_at_ms bigint not null,
  version bigint not null default 1 check (version > 0),
  created_at timestamptz not null default now(),
  check (daily_budget_micros <= lifetime_budget_micros)
);

create index campaigns_advertiser_id_idx on campaigns (advertiser_id);
create index campaigns_status_idx on campaigns (status);

comment on table campaigns is 'Campaigns: the source of truth for the compacted campaigns topic (rtb.v1.Campaign); one row per campaign, its latest version.';
comment on column campaigns.id is 'Stable campaign id; also the Kafka key on the campaigns topic.';
comment on column campaigns.advertiser_id is 'Owning advertiser.';
comment on column campaigns.status is 'active bids; paused and ended do not (bidders un-index them).';
comment on column campaigns.bid_cpm_micros is 'Bid price per 1000 impressions, in micros.';
comment on column campaigns.daily_budget_micros is 'Spend limit per campaign-local day (see timezone), in micros.';
comment on column campaigns.lifetime_budget_micros is 'Total spend limit, in micros; at least the daily budget.';
comment on column campaigns.start_ms is 'First moment the campaign may bid, UTC epoch ms (inclusive).';
comment on column campaigns.end_ms is 'End, UTC epoch ms (exclusive); null = open-ended.';
comment on column campaigns.timezone is 'IANA zone for dayparting and daily budgets, e.g. America/New_York.';
comment on column campaigns.dayparting is 'JSON array of {days:[0-6, Sunday=0], startMinute, endMinute} in local time; [] = always.';
comment on column campaigns.frequency_cap is 'JSON {count, per:"day"}: impressions per user per local day; null = uncapped.';
comment on column campaigns.pacing is 'even spreads the daily budget over the day; asap spends as fast as traffic allows.';
comment on column campaigns.targeting is 'JSON object: dimension (country, deviceType, interest, segment, domain, category, size) -> values; values OR, dimensions AND; missing = no rule.';
comment on column campaigns.updated_at_ms is 'When this version was written, UTC epoch ms, strictly increasing per campaign: consumers keep the newest.';
comment on column campaigns.version is 'Incremented on every change (1 = as created).';
comment on column campaigns.created_at is 'When the campaign was created (UTC).';

create table creatives (
  id text primary key check (length(id) between 1 and 200),
  campaign_id text not null references campaigns (id) on delete cascade,
  position int not null check (position >= 0),
  title text not null,
  image_url text not null,
  landing_url text not null,
  width int not null check (width > 0),
  height int not null check (height > 0),
  adomain text[] not null default '{}',
  unique (campaign_id, position)
);

create index creatives_campaign_id_idx on creatives (campaign_id);

comment on table creatives is 'Banner creatives of a campaign; a bidder picks one whose size fits the slot.';
comment on column creatives.id is 'Creative id, unique across all campaigns (sent as the bid crid).';
comment on column creatives.campaign_id is 'Owning campaign.';
comment on column creatives.position is 'Order within the campaign, kept because bidders choose by index (hash mod count).';
comment on column creatives.image_url is 'Absolute http(s) URL of the image.';
comment on column creatives.landing_url is 'Absolute http(s) URL the click goes to.';
comment on column creatives.width is 'Width in pixels.';
comment on column creatives.height is 'Height in pixels.';
comment on column creatives.adomain is 'Advertiser domains (OpenRTB bid.adomain) for exchange block lists.';
