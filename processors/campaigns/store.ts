/**
 * Campaign persistence in Postgres, the source of truth. Every write is one transaction that locks the
 * campaign row, bumps `version` and sets `updatedAtMs` from the injected clock, strictly increasing per
 * campaign (max(now, previous + 1)) so consumers that keep the newest `updatedAtMs` never confuse two
 * changes made within one millisecond or under a clock step backwards.
 *
 * Expected refusals (unknown advertiser, id taken, ...) are returned as `{ ok: false, reason }`, not
 * thrown; a database that cannot be reached throws PipelineError DEPENDENCY_UNAVAILABLE.
 */
import type postgres from 'postgres';
import { PipelineError } from '../../schemas/errors.js';
import { DEFAULT_CATTAX, type Campaign, type CampaignStatus, type Creative } from '../domain/campaign.js';
import { MAX_CREATIVES } from './validate-campaign.js';
import { rowToAdvertiser, selectCampaigns, type Advertiser, type Db, type StoredCampaign } from './store-rows.js';

export type { Advertiser, StoredCampaign } from './store-rows.js';

export type Rejection =
  | 'advertiser_exists' | 'advertiser_not_found' | 'campaign_exists' | 'campaign_not_found'
  | 'creative_exists' | 'too_many_creatives' | 'campaign_ended';

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: Rejection };

/** Thrown inside a transaction to roll it back and turn into `{ ok: false }` outside. */
class Rejected {
  constructor(readonly reason: Rejection) {}
}

type Tx = postgres.TransactionSql;

export class CampaignStore {
  constructor(
    private readonly sql: postgres.Sql,
    private readonly clock: () => number = Date.now,
  ) {}

  async createAdvertiser(a: { id: string; name: string }): Promise<Result<Advertiser>> {
    return this.run(async (tx) => {
      const [row] = await tx<{ id: string; name: string; created_at: Date }[]>`
        insert into advertisers (id, name) values (${a.id}, ${a.name}) on conflict (id) do nothing returning *`;
      if (!row) throw new Rejected('advertiser_exists');
      return rowToAdvertiser(row);
    });
  }

  /** Creates the advertiser or renames it (the seed script's idempotent path). */
  async upsertAdvertiser(a: { id: string; name: string }): Promise<Advertiser> {
    const [row] = await this.query((db) => db<{ id: string; name: string; created_at: Date }[]>`
      insert into advertisers (id, name) values (${a.id}, ${a.name}) on conflict (id) do update set name = excluded.name returning *`);
    return rowToAdvertiser(row!);
  }

  /** Every advertiser, or only `filter.id`. */
  async listAdvertisers(filter: { id?: string } = {}): Promise<Advertiser[]> {
    const rows = await this.query((db) => db<{ id: string; name: string; created_at: Date }[]>`
      select * from advertisers where ${filter.id ?? null}::text is null or id = ${filter.id ?? null} order by id`);
    return rows.map(rowToAdvertiser);
  }

  /** Fails with campaign_exists when the id is taken, advertiser_not_found for an unknown advertiser. */
  createCampaign(c: Campaign): Promise<Result<StoredCampaign>> {
    return this.save(c, 'create');
  }

  /**
   * Replaces every field and the creatives of an existing campaign (campaign_not_found otherwise, and
   * when `owner` is given and the campaign belongs to another advertiser).
   */
  updateCampaign(c: Campaign, owner?: string): Promise<Result<StoredCampaign>> {
    return this.save(c, 'update', owner);
  }

  /** Creates or replaces (the seed script's idempotent path). */
  upsertCampaign(c: Campaign): Promise<Result<StoredCampaign>> {
    return this.save(c, 'upsert');
  }

  async getCampaign(id: string): Promise<StoredCampaign | null> {
    const [c] = await this.query((db) => selectCampaigns(db, db`c.id = ${id}`, 1));
    return c ?? null;
  }

  async listCampaigns(filter: { advertiserId?: string; status?: CampaignStatus } = {}): Promise<StoredCampaign[]> {
    return this.query((db) => selectCampaigns(db, db`(${filter.advertiserId ?? null}::text is null or c.advertiser_id = ${filter.advertiserId ?? null})
      and (${filter.status ?? null}::text is null or c.status = ${filter.status ?? null})`));
  }

  /** Calls `fn` with every campaign, `batchSize` at a time in id order (keyset pages: the catalogue is never all in memory). */
  async eachCampaignBatch(batchSize: number, fn: (batch: StoredCampaign[]) => Promise<void>): Promise<void> {
    let after = '';
    for (;;) {
      const batch = await this.query((db) => selectCampaigns(db, db`c.id > ${after}`, batchSize));
      if (batch.length === 0) return;
      await fn(batch);
      after = batch[batch.length - 1]!.id;
    }
  }

  /** Pauses or resumes; an ended campaign stays ended (campaign_ended). `owner`: as for updateCampaign. */
  setStatus(id: string, status: 'active' | 'paused', owner?: string): Promise<Result<StoredCampaign>> {
    return this.run(async (tx) => {
      const cur = await this.lock(tx, id, owner);
      if (cur.status === 'ended') throw new Rejected('campaign_ended');
      await tx`update campaigns set status = ${status}, ${this.bump(tx, cur)} where id = ${id}`;
      return this.read(tx, id);
    });
  }

  /** Appends a creative (ids are unique across campaigns: creative_exists otherwise). `owner`: as for updateCampaign. */
  addCreative(campaignId: string, creative: Creative, owner?: string): Promise<Result<StoredCampaign>> {
    return this.run(async (tx) => {
      const cur = await this.lock(tx, campaignId, owner);
      const [n] = await tx<{ count: number; next: number }[]>`
        select count(*)::int as count, coalesce(max(position) + 1, 0)::int as next from creatives where campaign_id = ${campaignId}`;
      if ((n?.count ?? 0) >= MAX_CREATIVES) throw new Rejected('too_many_creatives');
      await this.insertCreative(tx, campaignId, n?.next ?? 0, creative);
      await tx`update campaigns set ${this.bump(tx, cur)} where id = ${campaignId}`;
      return this.read(tx, campaignId);
    });
  }

  private save(c: Campaign, mode: 'create' | 'update' | 'upsert', owner?: string): Promise<Result<StoredCampaign>> {
    return this.run(async (tx) => {
      const [adv] = await tx`select 1 from advertisers where id = ${c.advertiserId} for share`;
      const [cur] = await tx<{ version: string; updated_at_ms: string; advertiser_id: string }[]>`
        select version, updated_at_ms, advertiser_id from campaigns where id = ${c.id} for update`;
      if (mode === 'create' && cur) throw new Rejected('campaign_exists');
      if (mode === 'update' && (!cur || (owner !== undefined && cur.advertiser_id !== owner))) throw new Rejected('campaign_not_found');
      if (!adv) throw new Rejected('advertiser_not_found');
      const fields = {
        advertiser_id: c.advertiserId, name: c.name, status: c.status, bid_cpm_micros: c.bidCpmMicros,
        daily_budget_micros: c.dailyBudgetMicros, lifetime_budget_micros: c.lifetimeBudgetMicros, start_ms: c.startMs,
        end_ms: c.endMs, timezone: c.timezone, dayparting: json(tx, c.dayparting),
        frequency_cap: c.frequencyCap === null ? null : json(tx, c.frequencyCap), pacing: c.pacing,
        targeting: json(tx, c.targeting), deals: json(tx, c.deals ?? []), open_auction: c.openAuction ?? true,
      };
      if (cur) {
        await tx`update campaigns set ${tx(fields)}, ${this.bump(tx, cur)} where id = ${c.id}`;
        await tx`delete from creatives where campaign_id = ${c.id}`;
      } else {
        const inserted = await tx`insert into campaigns ${tx({ id: c.id, ...fields, updated_at_ms: this.clock(), version: 1 })}
          on conflict (id) do nothing returning id`;
        // Lost a race with a concurrent create of the same id.
        if (inserted.length === 0) throw new Rejected('campaign_exists');
      }
      for (const [i, creative] of c.creatives.entries()) await this.insertCreative(tx, c.id, i, creative);
      return this.read(tx, c.id);
    });
  }

  private async insertCreative(tx: Tx, campaignId: string, position: number, cr: Creative): Promise<void> {
    const [row] = await tx`insert into creatives (id, campaign_id, position, title, image_url, landing_url, width, height, adomain, cat, cattax, bundle, attr, video)
      values (${cr.id}, ${campaignId}, ${position}, ${cr.title}, ${cr.imageUrl}, ${cr.landingUrl}, ${cr.width}, ${cr.height}, ${[...cr.adomain]},
        ${[...(cr.cat ?? [])]}, ${cr.cattax ?? DEFAULT_CATTAX}, ${cr.bundle ?? null}, ${[...(cr.attr ?? [])]}, ${cr.video ? json(tx, cr.video) : null})
      on conflict (id) do nothing returning id`;
    if (!row) throw new Rejected('creative_exists');
  }

  /** The new version and updatedAtMs of a change to `cur`, as a SET fragment. */
  private bump(tx: Tx, cur: { version: string; updated_at_ms: string }): postgres.PendingQuery<postgres.Row[]> {
    const updatedAtMs = Math.max(this.clock(), Number(cur.updated_at_ms) + 1);
    return tx`version = ${Number(cur.version) + 1}, updated_at_ms = ${updatedAtMs}`;
  }

  /** Locks the campaign row; campaign_not_found when missing or (with `owner`) another advertiser's. */
  private async lock(tx: Tx, id: string, owner?: string): Promise<{ version: string; updated_at_ms: string; status: CampaignStatus }> {
    const [cur] = await tx<{ version: string; updated_at_ms: string; status: CampaignStatus; advertiser_id: string }[]>`
      select version, updated_at_ms, status, advertiser_id from campaigns where id = ${id} for update`;
    if (!cur || (owner !== undefined && cur.advertiser_id !== owner)) throw new Rejected('campaign_not_found');
    return cur;
  }

  private async read(tx: Tx, id: string): Promise<StoredCampaign> {
    const [c] = await selectCampaigns(tx, tx`c.id = ${id}`, 1);
    return c!;
  }

  private async run<T>(fn: (tx: Tx) => Promise<T>): Promise<Result<T>> {
    try {
      return { ok: true, value: (await this.sql.begin(fn)) as T };
    } catch (err) {
      if (err instanceof Rejected) return { ok: false, reason: err.reason };
      throw unavailable(err);
    }
  }

  private async query<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    try {
      return await fn(this.sql);
    } catch (err) {
      throw unavailable(err);
    }
  }
}

/** A jsonb parameter; the domain types are plain JSON data but lack the index signature JSONValue wants. */
function json(tx: Tx, v: unknown): postgres.Parameter {
  return tx.json(v as postgres.JSONValue);
}

/** Errors without a SQLSTATE (refused, closed, timed out) mean Postgres is unreachable: retryable. */
function unavailable(err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if ((err as { name?: string }).name === 'PostgresError' || typeof code !== 'string') return err;
  return new PipelineError('DEPENDENCY_UNAVAILABLE', `Postgres is unreachable (${code})`, { cause: err });
}
