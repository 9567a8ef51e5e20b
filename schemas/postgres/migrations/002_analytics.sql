-- Analytics: the windowed counts the sink (sink/writer.ts) adds exactly once, the ledger of applied
-- parts that makes replays exact, the sink's own offsets, and the views analysts query.
-- Money is bigint micros (1 currency unit = 1,000,000 micros) and times are UTC epoch ms, like the
-- records on window-counts; the views add numeric currency units and timestamptz beside them.

-- Helpers for the views: inlined by the planner (SQL, immutable), so they cost nothing per row.
create function metric_ratio(numerator numeric, denominator numeric) returns numeric
  language sql immutable parallel safe
  as $$ select numerator / nullif(denominator, 0) $$;
comment on function metric_ratio(numeric, numeric) is 'numerator / denominator as exact numeric; NULL when the denominator is 0 (no impressions means no CTR, not a CTR of 0).';

create function micros_to_units(micros numeric) returns numeric
  language sql immutable parallel safe
  as $$ select micros / 1000000 $$;
comment on function micros_to_units(numeric) is 'Integer micros to currency units as exact numeric (1 unit = 1,000,000 micros).';

-- The summary: one row per campaign, creative and tumbling window; counters only ever grow by the
-- parts the sink applies (and shrink only when a replay primitive takes parts back out).
create table window_counts (
  campaign_id text not null check (length(campaign_id) > 0),
  creative_id text not null default '',
  window_start_ms bigint not null check (window_start_ms >= 0),
  window_ms int not null check (window_ms > 0),
  requests bigint not null default 0,
  bids bigint not null default 0,
  wins bigint not null default 0,
  win_cost_micros bigint not null default 0,
  spend_micros bigint not null default 0,
  clearing_price_micros bigint not null default 0,
  impressions bigint not null default 0,
  clicks bigint not null default 0,
  conversions bigint not null default 0,
  window_start timestamptz generated always as (to_timestamp(window_start_ms::double precision / 1000)) stored,
  window_day date generated always as ((to_timestamp(window_start_ms::double precision / 1000) at time zone 'UTC')::date) stored,
  primary key (campaign_id, creative_id, window_start_ms, window_ms),
  -- A negative counter can only come from taking back more than was added: fail that transaction instead.
  constraint window_counts_non_negative check (
    requests >= 0 and bids >= 0 and wins >= 0 and win_cost_micros >= 0 and spend_micros >= 0
    and clearing_price_micros >= 0 and impressions >= 0 and clicks >= 0 and conversions >= 0)
) with (fillfactor = 80); -- room on each page so `count = count + n` updates stay HOT (no index churn)

-- Per-campaign time ranges (the views filter on these), all-campaign time ranges, per-campaign days.
create index window_counts_campaign_start_idx on window_counts (campaign_id, window_start);
create index window_counts_start_idx on window_counts (window_start);
create index window_counts_campaign_day_idx on window_counts (campaign_id, window_day);

comment on table window_counts is 'Counters per campaign, creative and tumbling event-time window, summed from the aggregate''s partial sums (window-counts topic) exactly once by the sink. campaign_id ''*'' (creative '''') holds the all-request counters: requests, and every bid and win of the window. Query the views rather than this table.';
comment on column window_counts.campaign_id is 'Campaign id, or ''*'' for the counters of all requests.';
comment on column window_counts.creative_id is 'Creative id ('''' on the ''*'' rows).';
comment on column window_counts.window_start_ms is 'Window start, UTC epoch ms (event time rounded down to the window width).';
comment on column window_counts.window_ms is 'Window width in ms. Each width counts the same events again: never sum across widths.';
comment on column window_counts.requests is 'Bid requests (only on ''*'' rows: a request has no campaign).';
comment on column window_counts.bids is 'Bids made (on ''*'' rows: all bids of the window).';
comment on column window_counts.wins is 'Auctions won.';
comment on column window_counts.win_cost_micros is 'Sum of the auction''s reserved cost of the wins, micros.';
comment on column window_counts.spend_micros is 'Sum of billing notices'' cost: the final spend, micros.';
comment on column window_counts.clearing_price_micros is 'Sum of the wins'' clearing CPMs, micros (divide by wins for the average).';
comment on column window_counts.impressions is 'Impression notices.';
comment on column window_counts.clicks is 'Click notices.';
comment on column window_counts.conversions is 'Conversion notices.';
comment on column window_counts.window_start is 'Window start as timestamptz (from window_start_ms), for analysts.';
comment on column window_counts.window_day is 'UTC day of the window start (a window spanning midnight counts on the day it starts).';

-- The ledger: every window-counts record the sink has applied, with its counters, the source range it
-- summarises and where it sat on window-counts. It makes re-delivery harmless (a part already here is
-- skipped) and replay exact (a replay subtracts exactly the parts it will re-apply).
create table window_count_parts (
  wc_topic text not null,
  wc_partition int not null check (wc_partition >= 0),
  wc_offset bigint not null check (wc_offset >= 0),
  wc_timestamp_ms bigint not null,
  source_topic text not null,
  source_partition int not null check (source_partition >= 0),
  first_offset bigint not null check (first_offset >= 0),
  last_offset bigint not null,
  campaign_id text not null,
  creative_id text not null,
  window_start_ms bigint not null,
  window_ms int not null,
  requests bigint not null default 0,
  bids bigint not null default 0,
  wins bigint not null default 0,
  win_cost_micros bigint not null default 0,
  spend_micros bigint not null default 0,
  clearing_price_micros bigint not null default 0,
  impressions bigint not null default 0,
  clicks bigint not null default 0,
  conversions bigint not null default 0,
  applied_at timestamptz not null default now(),
  superseded_at timestamptz,
  primary key (wc_topic, wc_partition, wc_offset),
  check (last_offset >= first_offset),
  constraint window_count_parts_non_negative check (
    requests >= 0 and bids >= 0 and wins >= 0 and win_cost_micros >= 0 and spend_micros >= 0
    and clearing_price_micros >= 0 and impressions >= 0 and clicks >= 0 and conversions >= 0)
);

-- A part is one key of one aggregate batch: the same part (even re-emitted at another window-counts
-- offset) is applied at most once while it is live. Also the (source_topic, source_partition,
-- first_offset) index that removeFromSource walks.
create unique index window_count_parts_part_key on window_count_parts
  (source_topic, source_partition, first_offset, last_offset, campaign_id, creative_id, window_start_ms, window_ms)
  where superseded_at is null;
-- Pruning scans by record time; the ledger is written in time order, so a BRIN index is tiny and enough.
create index window_count_parts_wc_time_brin on window_count_parts using brin (wc_timestamp_ms);

comment on table window_count_parts is 'Ledger of applied window-counts records (one aggregate batch''s partial sums for one key and window). Written in the same transaction as window_counts and sink_offsets. Live rows (superseded_at null) are exactly what window_counts holds; pruned by prune_window_count_parts after the replay horizon.';
comment on column window_count_parts.wc_topic is 'The window-counts topic the record was read from (SINK_INPUT).';
comment on column window_count_parts.wc_partition is 'Its window-counts partition.';
comment on column window_count_parts.wc_offset is 'Its window-counts offset: removeFromWindowCountsOffset takes back parts from here on.';
comment on column window_count_parts.wc_timestamp_ms is 'Kafka timestamp of the window-counts record, UTC ms: what retention and pruning go by.';
comment on column window_count_parts.source_topic is 'The aggregate''s input topic the batch was read from (auction-outcomes or tracking-events).';
comment on column window_count_parts.source_partition is 'The aggregate''s input partition.';
comment on column window_count_parts.first_offset is 'First input offset of the aggregate batch (inclusive): a batch boundary to rewind the aggregate to.';
comment on column window_count_parts.last_offset is 'Last input offset of the aggregate batch (inclusive).';
comment on column window_count_parts.applied_at is 'When the sink applied the part.';
comment on column window_count_parts.superseded_at is 'Set by removeFromSource: the part was taken out of window_counts because its source range is being re-aggregated. The row stays so that re-reading this window-counts record is skipped; NULL = live.';

-- The sink's positions: the next window-counts offset to apply per consumer group and partition,
-- advanced by compare-and-set in the same transaction as the writes. Kafka's committed offsets are
-- never used for correctness.
create table sink_offsets (
  group_id text not null,
  topic text not null,
  partition int not null check (partition >= 0),
  next_offset bigint not null check (next_offset >= 0),
  updated_at timestamptz not null default now(),
  primary key (group_id, topic, partition)
);

comment on table sink_offsets is 'Next window-counts offset to apply, per sink consumer group and partition. Moved only by compare-and-set inside the transaction that applies the records (a zombie''s stale expected offset matches no row and writes nothing), and back by removeFromWindowCountsOffset. The sink seeks to it on every partition assignment.';
comment on column sink_offsets.group_id is 'Sink consumer group (SINK_GROUP).';
comment on column sink_offsets.topic is 'Window-counts topic (SINK_INPUT).';
comment on column sink_offsets.partition is 'Partition of that topic.';
comment on column sink_offsets.next_offset is 'First offset not yet applied (last applied + 1).';
comment on column sink_offsets.updated_at is 'When next_offset last moved.';

-- Replay horizons: what pruning removed. A replay that would need a pruned part is refused.
create table window_count_replay_horizons (
  kind text not null check (kind in ('window-counts', 'source')),
  topic text not null,
  partition int not null check (partition >= 0),
  min_offset bigint not null,
  updated_at timestamptz not null default now(),
  primary key (kind, topic, partition)
);

comment on table window_count_replay_horizons is 'Lowest offset a replay may start from, per window-counts partition (kind window-counts) and per aggregate input partition (kind source): one past the highest offset whose ledger rows were pruned.';
comment on column window_count_replay_horizons.min_offset is 'removeFromWindowCountsOffset / removeFromSource refuse to start below this offset.';

create function prune_window_count_parts(older_than_ms bigint) returns bigint
  language plpgsql
  as $$
declare
  pruned bigint;
begin
  with gone as (
    delete from window_count_parts where wc_timestamp_ms < older_than_ms
    returning wc_topic, wc_partition, wc_offset, source_topic, source_partition, last_offset
  ), wc as (
    insert into window_count_replay_horizons as h (kind, topic, partition, min_offset)
    select 'window-counts', wc_topic, wc_partition, max(wc_offset) + 1 from gone group by wc_topic, wc_partition
    on conflict (kind, topic, partition) do update set min_offset = greatest(h.min_offset, excluded.min_offset), updated_at = now()
  ), src as (
    insert into window_count_replay_horizons as h (kind, topic, partition, min_offset)
    select 'source', source_topic, source_partition, max(last_offset) + 1 from gone group by source_topic, source_partition
    on conflict (kind, topic, partition) do update set min_offset = greatest(h.min_offset, excluded.min_offset), updated_at = now()
  )
  select count(*) into pruned from gone;
  return pruned;
end
$$;

comment on function prune_window_count_parts(bigint) is 'Deletes ledger rows whose window-counts record (Kafka timestamp) is older than older_than_ms (UTC epoch ms), returns how many, and raises the replay horizons past them. window_counts is untouched. Retention = the replay horizon: keep a part at least as long as the records it was read from and summarises can still be replayed, i.e. longer than the retention of window-counts AND of the aggregate''s inputs, e.g. with 7-day topic retention run daily: select prune_window_count_parts((extract(epoch from now() - interval ''8 days'') * 1000)::bigint).';

-- Views. Ratios are exact numeric and NULL when the denominator is 0; money appears both as micros
-- and as currency units. CPM and CPC use spend (billing notices), the final cost.

create view campaign_window_metrics as
select
  campaign_id,
  creative_id,
  window_start,
  window_start + window_ms * interval '1 millisecond' as window_end,
  window_day,
  window_start_ms,
  window_ms,
  bids,
  wins,
  metric_ratio(wins, bids) as win_rate,
  win_cost_micros,
  micros_to_units(win_cost_micros) as win_cost,
  spend_micros,
  micros_to_units(spend_micros) as spend,
  clearing_price_micros,
  metric_ratio(clearing_price_micros, wins) as avg_clearing_cpm_micros,
  micros_to_units(metric_ratio(clearing_price_micros, wins)) as avg_clearing_cpm,
  impressions,
  clicks,
  metric_ratio(clicks, impressions) as ctr,
  metric_ratio(spend_micros::numeric * 1000, impressions) as cpm_micros,
  micros_to_units(metric_ratio(spend_micros::numeric * 1000, impressions)) as cpm,
  metric_ratio(spend_micros, clicks) as cpc_micros,
  micros_to_units(metric_ratio(spend_micros, clicks)) as cpc,
  conversions
from window_counts
where campaign_id <> '*';

comment on view campaign_window_metrics is 'Per campaign, creative and window: counters and the usual ratios. Filter on campaign_id and window_start (indexed). Ratios are exact numeric, NULL when their denominator is 0.';
comment on column campaign_window_metrics.window_end is 'Window end (exclusive).';
comment on column campaign_window_metrics.win_rate is 'wins / bids.';
comment on column campaign_window_metrics.win_cost is 'Reserved cost of the wins, currency units.';
comment on column campaign_window_metrics.spend is 'Billed spend, currency units.';
comment on column campaign_window_metrics.avg_clearing_cpm_micros is 'Average clearing CPM of the wins, micros (clearing_price_micros / wins).';
comment on column campaign_window_metrics.avg_clearing_cpm is 'Average clearing CPM of the wins, currency units.';
comment on column campaign_window_metrics.ctr is 'clicks / impressions.';
comment on column campaign_window_metrics.cpm_micros is 'Spend per 1000 impressions, micros.';
comment on column campaign_window_metrics.cpm is 'Spend per 1000 impressions, currency units.';
comment on column campaign_window_metrics.cpc_micros is 'Spend per click, micros.';
comment on column campaign_window_metrics.cpc is 'Spend per click, currency units.';

create view campaign_daily_metrics as
select
  campaign_id,
  day,
  window_ms,
  creatives,
  bids,
  wins,
  metric_ratio(wins, bids) as win_rate,
  win_cost_micros,
  micros_to_units(win_cost_micros) as win_cost,
  spend_micros,
  micros_to_units(spend_micros) as spend,
  metric_ratio(clearing_price_micros, wins) as avg_clearing_cpm_micros,
  micros_to_units(metric_ratio(clearing_price_micros, wins)) as avg_clearing_cpm,
  impressions,
  clicks,
  metric_ratio(clicks, impressions) as ctr,
  metric_ratio(spend_micros::numeric * 1000, impressions) as cpm_micros,
  micros_to_units(metric_ratio(spend_micros::numeric * 1000, impressions)) as cpm,
  metric_ratio(spend_micros, clicks) as cpc_micros,
  micros_to_units(metric_ratio(spend_micros, clicks)) as cpc,
  conversions
from (
  select
    campaign_id,
    window_day as day,
    window_ms,
    count(distinct creative_id) as creatives,
    sum(bids)::bigint as bids,
    sum(wins)::bigint as wins,
    sum(win_cost_micros)::bigint as win_cost_micros,
    sum(spend_micros)::bigint as spend_micros,
    sum(clearing_price_micros)::bigint as clearing_price_micros,
    sum(impressions)::bigint as impressions,
    sum(clicks)::bigint as clicks,
    sum(conversions)::bigint as conversions
  from window_counts
  where campaign_id <> '*'
  group by campaign_id, window_day, window_ms
) per_day;

comment on view campaign_daily_metrics is 'Per campaign and UTC day, summed over creatives and windows, one row per window width (each width counts the same events: pick one, never add them). Ratios are computed from the day''s sums. Filter on campaign_id and day (indexed).';
comment on column campaign_daily_metrics.day is 'UTC day of the window starts.';
comment on column campaign_daily_metrics.creatives is 'Creatives with any activity that day.';

create view window_totals as
select
  window_start_ms,
  window_ms,
  window_start,
  coalesce(sum(requests) filter (where campaign_id = '*'), 0)::bigint as requests,
  coalesce(sum(bids) filter (where campaign_id = '*'), 0)::bigint as bids,
  coalesce(sum(wins) filter (where campaign_id = '*'), 0)::bigint as wins,
  metric_ratio(sum(bids) filter (where campaign_id = '*'), sum(requests) filter (where campaign_id = '*')) as bids_per_request,
  metric_ratio(sum(wins) filter (where campaign_id = '*'), sum(requests) filter (where campaign_id = '*')) as wins_per_request,
  count(distinct campaign_id) filter (where campaign_id <> '*') as campaigns,
  coalesce(sum(bids) filter (where campaign_id <> '*'), 0)::bigint as campaign_bids,
  coalesce(sum(win_cost_micros) filter (where campaign_id <> '*'), 0)::bigint as win_cost_micros,
  micros_to_units(coalesce(sum(win_cost_micros) filter (where campaign_id <> '*'), 0)) as win_cost,
  coalesce(sum(spend_micros) filter (where campaign_id <> '*'), 0)::bigint as spend_micros,
  micros_to_units(coalesce(sum(spend_micros) filter (where campaign_id <> '*'), 0)) as spend,
  coalesce(sum(impressions) filter (where campaign_id <> '*'), 0)::bigint as impressions,
  coalesce(sum(clicks) filter (where campaign_id <> '*'), 0)::bigint as clicks,
  coalesce(sum(conversions) filter (where campaign_id <> '*'), 0)::bigint as conversions
from window_counts
group by window_start_ms, window_ms, window_start;

comment on view window_totals is 'Per window, across campaigns: requests, bids and wins from the ''*'' rows (all requests), money and notices summed over the campaign rows. Filter on window_start (indexed; the filter is applied before grouping).';
comment on column window_totals.requests is 'Bid requests in the window.';
comment on column window_totals.bids is 'All bids in the window (''*'' row).';
comment on column window_totals.bids_per_request is 'bids / requests; NULL without requests.';
comment on column window_totals.wins_per_request is 'wins / requests; NULL without requests.';
comment on column window_totals.campaigns is 'Campaigns with any activity in the window.';
comment on column window_totals.campaign_bids is 'Bids summed over the campaign rows: equals bids when every bid is attributed to a campaign.';
