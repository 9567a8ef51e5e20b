-- Issue 10: numbers that reconcile with the exchange. A win is now the EXCHANGE's win (the win or the
-- billing notice, per the exchange's `winNotice` setting), priced at the clearing price the exchange
-- reported; our internal auction's pick is a bid SUBMITTED; loss notices are counted; deals, test
-- traffic, the request's privacy basis and its answer currency are dimensions of every row.
--
-- Existing rows: before this migration `wins` counted our auction's picks and `clearing_price_micros`
-- summed their internal clearing CPMs. Both move to the new columns `submitted` and
-- `submitted_price_micros` (in the summary AND in the ledger, which must keep equal to the summary for
-- replays), and `wins` / `clearing_price_micros` start at 0: exchange wins were not recorded before
-- (old tracking events carry no exchangeWin flag, so replaying them cannot recover them either).
-- Old rows get the dimensions' defaults: open auction (deal ''), live traffic, privacy basis '' (not
-- recorded: the edge applied no privacy policy then), currency USD (every answer was in USD), so their
-- spend in the reported currency is their spend.
--
-- The rewrite touches every row of window_counts and window_count_parts once; prune the ledger first
-- (prune_window_count_parts) to keep it short.

-- The views change columns (create or replace cannot rename or drop a column): dropped here, recreated below.
drop view campaign_window_metrics;
drop view campaign_daily_metrics;
drop view window_totals;

alter table window_counts
  add column deal_id text not null default '',
  add column test boolean not null default false,
  add column privacy_basis text not null default '',
  add column currency text not null default 'USD',
  add column submitted bigint not null default 0,
  add column submitted_price_micros bigint not null default 0,
  add column losses bigint not null default 0,
  add column reported_spend_micros bigint not null default 0;
alter table window_counts
  add constraint window_counts_v2_non_negative check (submitted >= 0 and submitted_price_micros >= 0 and losses >= 0 and reported_spend_micros >= 0);
update window_counts
  set submitted = wins, submitted_price_micros = clearing_price_micros, wins = 0, clearing_price_micros = 0, reported_spend_micros = spend_micros
  where wins <> 0 or clearing_price_micros <> 0 or spend_micros <> 0;
-- Every dimension is in the key: otherwise the sink's upsert would add a deal's counts to the open
-- auction's row (or test traffic to live traffic, one currency to another).
alter table window_counts drop constraint window_counts_pkey;
alter table window_counts add primary key (campaign_id, creative_id, deal_id, test, privacy_basis, currency, window_start_ms, window_ms);
-- The dimension views group whole days across campaigns.
create index window_counts_day_idx on window_counts (window_day);

alter table window_count_parts
  add column deal_id text not null default '',
  add column test boolean not null default false,
  add column privacy_basis text not null default '',
  add column currency text not null default 'USD',
  add column submitted bigint not null default 0,
  add column submitted_price_micros bigint not null default 0,
  add column losses bigint not null default 0,
  add column reported_spend_micros bigint not null default 0;
alter table window_count_parts
  add constraint window_count_parts_v2_non_negative check (submitted >= 0 and submitted_price_micros >= 0 and losses >= 0 and reported_spend_micros >= 0);
update window_count_parts
  set submitted = wins, submitted_price_micros = clearing_price_micros, wins = 0, clearing_price_micros = 0, reported_spend_micros = spend_micros
  where wins <> 0 or clearing_price_micros <> 0 or spend_micros <> 0;
-- A part is one key of one aggregate batch, and the key now has the dimensions.
drop index window_count_parts_part_key;
create unique index window_count_parts_part_key on window_count_parts
  (source_topic, source_partition, first_offset, last_offset, campaign_id, creative_id, deal_id, test, privacy_basis, currency, window_start_ms, window_ms)
  where superseded_at is null;

comment on table window_counts is 'Counters per campaign, creative, deal, test flag, privacy basis, currency and tumbling event-time window, summed from the aggregate''s partial sums (window-counts topic) exactly once by the sink. campaign_id ''*'' (creative and deal '''') holds the all-request counters: requests, and every bid and bid submitted of the window. Query the views rather than this table.';
comment on column window_counts.deal_id is 'Deal id of the bid, win or notice; '''' = open auction (always '''' on ''*'' rows).';
comment on column window_counts.test is 'Test traffic (the request had test = 1): never charged; the main views leave it out.';
comment on column window_counts.privacy_basis is 'The request''s privacy basis (unrestricted, consent, coppa, gdpr_no_consent, us_privacy_opt_out, gpp_opt_out, lmt); '''' = not recorded (before issue 10).';
comment on column window_counts.currency is 'The request''s answer currency (notices and loss notices: the currency the exchange reported in, the answer''s). Money columns stay in base-currency (USD) micros whatever this says.';
comment on column window_counts.bids is 'Bids made in our internal auction (on ''*'' rows: all bids of the window).';
comment on column window_counts.submitted is 'Bids submitted: our internal auction''s picks, answered to the exchange (on ''*'' rows: all of the window). Before issue 10 these were counted as wins.';
comment on column window_counts.wins is 'Wins at the exchange: win notices (nurl) or billing notices (burl), whichever the exchange''s winNotice setting names. Counted from issue 10 on (earlier wins moved to submitted).';
comment on column window_counts.losses is 'Loss notices (lurl) from the exchange.';
comment on column window_counts.win_cost_micros is 'Sum of the auction''s reserved cost of the bids submitted, micros.';
comment on column window_counts.submitted_price_micros is 'Sum of the submitted bids'' clearing CPMs in our internal auction, micros (divide by submitted for the average).';
comment on column window_counts.reported_spend_micros is 'Billed spend in the currency the exchange reported (the row''s currency), micros of that currency: reported CPM / 1000 floored per billing notice. What the exchange''s invoice says; never add it across currencies.';
comment on column window_counts.clearing_price_micros is 'Sum of the clearing CPMs the exchange reported (${AUCTION_PRICE}) on its wins, base-currency micros (divide by wins for the average).';

comment on column window_count_parts.deal_id is 'Key dimension, as in window_counts.';
comment on column window_count_parts.test is 'Key dimension, as in window_counts.';
comment on column window_count_parts.privacy_basis is 'Key dimension, as in window_counts.';
comment on column window_count_parts.currency is 'Key dimension, as in window_counts.';
comment on column window_count_parts.submitted is 'Counter, as in window_counts.';
comment on column window_count_parts.submitted_price_micros is 'Counter, as in window_counts.';
comment on column window_count_parts.losses is 'Counter, as in window_counts.';
comment on column window_count_parts.reported_spend_micros is 'Counter, as in window_counts.';

-- Views. Ratios are exact numeric and NULL when the denominator is 0; money appears both as micros and
-- as base-currency units. win_rate = exchange wins / bids submitted. CPM and CPC use spend (billing
-- notices), the final cost. The campaign, deal and window views are LIVE traffic only: test traffic is
-- in test_campaign_daily_metrics and traffic_daily_metrics (test = true), never in their money columns.

create view campaign_window_metrics as
select
  campaign_id,
  creative_id,
  deal_id,
  window_start,
  window_start + window_ms * interval '1 millisecond' as window_end,
  window_day,
  window_start_ms,
  window_ms,
  bids,
  submitted,
  wins,
  metric_ratio(wins, submitted) as win_rate,
  losses,
  win_cost_micros,
  micros_to_units(win_cost_micros) as win_cost,
  spend_micros,
  micros_to_units(spend_micros) as spend,
  clearing_price_micros,
  metric_ratio(clearing_price_micros, wins) as avg_clearing_cpm_micros,
  micros_to_units(metric_ratio(clearing_price_micros, wins)) as avg_clearing_cpm,
  metric_ratio(submitted_price_micros, submitted) as avg_submitted_cpm_micros,
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
    campaign_id, creative_id, deal_id, window_start_ms, window_ms, window_start, window_day,
    sum(bids)::bigint as bids,
    sum(submitted)::bigint as submitted,
    sum(wins)::bigint as wins,
    sum(losses)::bigint as losses,
    sum(win_cost_micros)::bigint as win_cost_micros,
    sum(spend_micros)::bigint as spend_micros,
    sum(clearing_price_micros)::bigint as clearing_price_micros,
    sum(submitted_price_micros)::bigint as submitted_price_micros,
    sum(impressions)::bigint as impressions,
    sum(clicks)::bigint as clicks,
    sum(conversions)::bigint as conversions
  from window_counts
  where campaign_id <> '*' and not test
  group by campaign_id, creative_id, deal_id, window_start_ms, window_ms, window_start, window_day
) per_window;

comment on view campaign_window_metrics is 'Live traffic per campaign, creative, deal and window (summed over privacy bases and currencies): counters and the usual ratios. Filter on campaign_id and window_start (indexed). Ratios are exact numeric, NULL when their denominator is 0.';
comment on column campaign_window_metrics.deal_id is 'Deal id; '''' = open auction.';
comment on column campaign_window_metrics.window_end is 'Window end (exclusive).';
comment on column campaign_window_metrics.bids is 'Bids made in our internal auction.';
comment on column campaign_window_metrics.submitted is 'Bids submitted to the exchange (our auction''s picks; counted as wins before issue 10).';
comment on column campaign_window_metrics.wins is 'Wins at the exchange (win or billing notice, per exchange).';
comment on column campaign_window_metrics.win_rate is 'wins / submitted: the exchange win rate of the bids we submitted.';
comment on column campaign_window_metrics.losses is 'Loss notices.';
comment on column campaign_window_metrics.win_cost is 'Reserved cost of the bids submitted, currency units.';
comment on column campaign_window_metrics.spend is 'Billed spend, currency units.';
comment on column campaign_window_metrics.avg_clearing_cpm_micros is 'Average clearing CPM the exchange reported on its wins, micros (clearing_price_micros / wins).';
comment on column campaign_window_metrics.avg_clearing_cpm is 'Average clearing CPM the exchange reported on its wins, currency units.';
comment on column campaign_window_metrics.avg_submitted_cpm_micros is 'Average internal clearing CPM of the bids submitted, micros (submitted_price_micros / submitted).';
comment on column campaign_window_metrics.ctr is 'clicks / impressions.';
comment on column campaign_window_metrics.cpm_micros is 'Spend per 1000 impressions, micros.';
comment on column campaign_window_metrics.cpm is 'Spend per 1000 impressions, currency units.';
comment on column campaign_window_metrics.cpc_micros is 'Spend per click, micros.';
comment on column campaign_window_metrics.cpc is 'Spend per click, currency units.';

create view deal_daily_metrics as
select
  campaign_id,
  deal_id,
  day,
  window_ms,
  creatives,
  bids,
  submitted,
  wins,
  metric_ratio(wins, submitted) as win_rate,
  losses,
  win_cost_micros,
  micros_to_units(win_cost_micros) as win_cost,
  spend_micros,
  micros_to_units(spend_micros) as spend,
  clearing_price_micros,
  metric_ratio(clearing_price_micros, wins) as avg_clearing_cpm_micros,
  micros_to_units(metric_ratio(clearing_price_micros, wins)) as avg_clearing_cpm,
  metric_ratio(submitted_price_micros, submitted) as avg_submitted_cpm_micros,
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
    campaign_id, deal_id, window_day as day, window_ms,
    count(distinct creative_id) as creatives,
    sum(bids)::bigint as bids,
    sum(submitted)::bigint as submitted,
    sum(wins)::bigint as wins,
    sum(losses)::bigint as losses,
    sum(win_cost_micros)::bigint as win_cost_micros,
    sum(spend_micros)::bigint as spend_micros,
    sum(clearing_price_micros)::bigint as clearing_price_micros,
    sum(submitted_price_micros)::bigint as submitted_price_micros,
    sum(impressions)::bigint as impressions,
    sum(clicks)::bigint as clicks,
    sum(conversions)::bigint as conversions
  from window_counts
  where campaign_id <> '*' and not test
  group by campaign_id, deal_id, window_day, window_ms
) per_deal;

comment on view deal_daily_metrics is 'Live traffic per campaign, deal (open auction = '''') and UTC day, one row per window width (pick one, never add them); columns as in campaign_window_metrics, ratios from the day''s sums. Filter on campaign_id and day (indexed).';
comment on column deal_daily_metrics.deal_id is 'Deal id; '''' = open auction.';
comment on column deal_daily_metrics.day is 'UTC day of the window starts.';
comment on column deal_daily_metrics.creatives is 'Creatives with any activity in the deal that day.';
comment on column deal_daily_metrics.win_rate is 'wins / submitted.';
comment on column deal_daily_metrics.spend is 'Billed spend, currency units.';
comment on column deal_daily_metrics.avg_clearing_cpm is 'Average clearing CPM the exchange reported on its wins, currency units.';

create view campaign_daily_metrics as
select
  campaign_id,
  day,
  window_ms,
  creatives,
  deals,
  bids,
  submitted,
  wins,
  metric_ratio(wins, submitted) as win_rate,
  losses,
  win_cost_micros,
  micros_to_units(win_cost_micros) as win_cost,
  spend_micros,
  micros_to_units(spend_micros) as spend,
  clearing_price_micros,
  metric_ratio(clearing_price_micros, wins) as avg_clearing_cpm_micros,
  micros_to_units(metric_ratio(clearing_price_micros, wins)) as avg_clearing_cpm,
  metric_ratio(submitted_price_micros, submitted) as avg_submitted_cpm_micros,
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
    campaign_id, window_day as day, window_ms,
    count(distinct creative_id) as creatives,
    count(distinct deal_id) filter (where deal_id <> '') as deals,
    sum(bids)::bigint as bids,
    sum(submitted)::bigint as submitted,
    sum(wins)::bigint as wins,
    sum(losses)::bigint as losses,
    sum(win_cost_micros)::bigint as win_cost_micros,
    sum(spend_micros)::bigint as spend_micros,
    sum(clearing_price_micros)::bigint as clearing_price_micros,
    sum(submitted_price_micros)::bigint as submitted_price_micros,
    sum(impressions)::bigint as impressions,
    sum(clicks)::bigint as clicks,
    sum(conversions)::bigint as conversions
  from window_counts
  where campaign_id <> '*' and not test
  group by campaign_id, window_day, window_ms
) per_day;

comment on view campaign_daily_metrics is 'Live traffic per campaign and UTC day, summed over creatives, deals and windows, one row per window width (each width counts the same events: pick one, never add them). Ratios are computed from the day''s sums. Filter on campaign_id and day (indexed).';
comment on column campaign_daily_metrics.day is 'UTC day of the window starts.';
comment on column campaign_daily_metrics.creatives is 'Creatives with any activity that day.';
comment on column campaign_daily_metrics.deals is 'Deals (not counting the open auction) with any activity that day.';
comment on column campaign_daily_metrics.submitted is 'Bids submitted to the exchange (counted as wins before issue 10).';
comment on column campaign_daily_metrics.wins is 'Wins at the exchange.';
comment on column campaign_daily_metrics.win_rate is 'wins / submitted.';
comment on column campaign_daily_metrics.avg_clearing_cpm is 'Average clearing CPM the exchange reported on its wins, currency units.';

create view window_totals as
select
  window_start_ms,
  window_ms,
  window_start,
  coalesce(sum(requests) filter (where campaign_id = '*'), 0)::bigint as requests,
  coalesce(sum(bids) filter (where campaign_id = '*'), 0)::bigint as bids,
  coalesce(sum(submitted) filter (where campaign_id = '*'), 0)::bigint as submitted,
  coalesce(sum(wins) filter (where campaign_id <> '*'), 0)::bigint as wins,
  metric_ratio(sum(bids) filter (where campaign_id = '*'), sum(requests) filter (where campaign_id = '*')) as bids_per_request,
  metric_ratio(sum(wins) filter (where campaign_id <> '*'), sum(requests) filter (where campaign_id = '*')) as wins_per_request,
  metric_ratio(sum(wins) filter (where campaign_id <> '*'), sum(submitted) filter (where campaign_id = '*')) as win_rate,
  coalesce(sum(losses) filter (where campaign_id <> '*'), 0)::bigint as losses,
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
where not test
group by window_start_ms, window_ms, window_start;

comment on view window_totals is 'Live traffic per window, across campaigns: requests, bids and bids submitted from the ''*'' rows (all requests), exchange wins, losses, money and notices summed over the campaign rows. Filter on window_start (indexed; the filter is applied before grouping).';
comment on column window_totals.requests is 'Bid requests in the window.';
comment on column window_totals.bids is 'All bids in the window (''*'' row).';
comment on column window_totals.submitted is 'All bids submitted in the window (''*'' row; counted as wins before issue 10).';
comment on column window_totals.wins is 'Exchange wins, summed over the campaign rows.';
comment on column window_totals.bids_per_request is 'bids / requests; NULL without requests.';
comment on column window_totals.wins_per_request is 'exchange wins / requests; NULL without requests.';
comment on column window_totals.win_rate is 'exchange wins / bids submitted; NULL without submitted bids.';
comment on column window_totals.losses is 'Loss notices, summed over the campaign rows.';
comment on column window_totals.campaigns is 'Campaigns with any activity in the window.';
comment on column window_totals.campaign_bids is 'Bids summed over the campaign rows: equals bids when every bid is attributed to a campaign.';

create view traffic_daily_metrics as
select
  day,
  window_ms,
  test,
  privacy_basis,
  currency,
  requests,
  bids,
  submitted,
  wins,
  metric_ratio(bids, requests) as bids_per_request,
  metric_ratio(wins, submitted) as win_rate,
  losses,
  spend_micros,
  micros_to_units(spend_micros) as spend,
  reported_spend_micros,
  micros_to_units(reported_spend_micros) as reported_spend,
  clearing_price_micros,
  metric_ratio(clearing_price_micros, wins) as avg_clearing_cpm_micros,
  micros_to_units(metric_ratio(clearing_price_micros, wins)) as avg_clearing_cpm,
  impressions,
  clicks,
  metric_ratio(clicks, impressions) as ctr,
  micros_to_units(metric_ratio(spend_micros::numeric * 1000, impressions)) as cpm,
  conversions
from (
  select
    window_day as day, window_ms, test, privacy_basis, currency,
    coalesce(sum(requests) filter (where campaign_id = '*'), 0)::bigint as requests,
    coalesce(sum(bids) filter (where campaign_id = '*'), 0)::bigint as bids,
    coalesce(sum(submitted) filter (where campaign_id = '*'), 0)::bigint as submitted,
    coalesce(sum(wins) filter (where campaign_id <> '*'), 0)::bigint as wins,
    coalesce(sum(losses) filter (where campaign_id <> '*'), 0)::bigint as losses,
    coalesce(sum(spend_micros) filter (where campaign_id <> '*'), 0)::bigint as spend_micros,
    coalesce(sum(reported_spend_micros) filter (where campaign_id <> '*'), 0)::bigint as reported_spend_micros,
    coalesce(sum(clearing_price_micros) filter (where campaign_id <> '*'), 0)::bigint as clearing_price_micros,
    coalesce(sum(impressions) filter (where campaign_id <> '*'), 0)::bigint as impressions,
    coalesce(sum(clicks) filter (where campaign_id <> '*'), 0)::bigint as clicks,
    coalesce(sum(conversions) filter (where campaign_id <> '*'), 0)::bigint as conversions
  from window_counts
  group by window_day, window_ms, test, privacy_basis, currency
) per_slice;

comment on view traffic_daily_metrics is 'All traffic per UTC day, window width, test flag, privacy basis and currency, across campaigns: requests by the basis and answer currency of the request, bids and wins by those of their request. Test traffic is its own rows (test = true): filter on test before adding money. Filter on day (indexed).';
comment on column traffic_daily_metrics.day is 'UTC day of the window starts.';
comment on column traffic_daily_metrics.test is 'Test traffic (request test = 1): never charged.';
comment on column traffic_daily_metrics.privacy_basis is 'The request''s privacy basis; '''' = not recorded (before issue 10).';
comment on column traffic_daily_metrics.currency is 'The request''s answer currency. Money is in base-currency (USD) micros whatever it says.';
comment on column traffic_daily_metrics.requests is 'Bid requests.';
comment on column traffic_daily_metrics.bids is 'Bids made in our internal auction.';
comment on column traffic_daily_metrics.submitted is 'Bids submitted to the exchange.';
comment on column traffic_daily_metrics.wins is 'Wins at the exchange.';
comment on column traffic_daily_metrics.bids_per_request is 'bids / requests.';
comment on column traffic_daily_metrics.win_rate is 'wins / submitted (losses live under currency '''': compare loss counts across currencies only in total).';
comment on column traffic_daily_metrics.spend is 'Billed spend (for test traffic: what it would have cost; never charged), base-currency units.';
comment on column traffic_daily_metrics.reported_spend is 'Billed spend in the row''s currency, units of it (what that currency''s invoices say).';
comment on column traffic_daily_metrics.avg_clearing_cpm is 'Average clearing CPM the exchange reported on its wins, base-currency units.';
comment on column traffic_daily_metrics.cpm is 'Spend per 1000 impressions, base-currency units.';

create view test_campaign_daily_metrics as
select
  campaign_id,
  deal_id,
  day,
  window_ms,
  bids,
  submitted,
  wins,
  metric_ratio(wins, submitted) as win_rate,
  losses,
  spend_micros,
  micros_to_units(spend_micros) as spend,
  impressions,
  clicks,
  conversions
from (
  select
    campaign_id, deal_id, window_day as day, window_ms,
    sum(bids)::bigint as bids,
    sum(submitted)::bigint as submitted,
    sum(wins)::bigint as wins,
    sum(losses)::bigint as losses,
    sum(spend_micros)::bigint as spend_micros,
    sum(impressions)::bigint as impressions,
    sum(clicks)::bigint as clicks,
    sum(conversions)::bigint as conversions
  from window_counts
  where campaign_id <> '*' and test
  group by campaign_id, deal_id, window_day, window_ms
) per_day;

comment on view test_campaign_daily_metrics is 'TEST traffic (request test = 1) per campaign, deal and UTC day, one row per window width: what the live views leave out. Its spend was never charged to a budget. Test requests are in traffic_daily_metrics (test = true).';
comment on column test_campaign_daily_metrics.day is 'UTC day of the window starts.';
comment on column test_campaign_daily_metrics.win_rate is 'wins / submitted.';
comment on column test_campaign_daily_metrics.spend is 'What the test wins would have cost (billing notices), currency units; never charged.';
