/**
 * API tokens in Postgres (schemas/postgres/migrations/003_api_tokens.sql): created with a random secret that is
 * returned once and stored only as its SHA-256, listed without secrets, revoked (kept, with revoked_at),
 * and looked up by hash to authenticate a request. A database that cannot be reached throws
 * PipelineError DEPENDENCY_UNAVAILABLE (the API answers 503).
 */
import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { PipelineError } from '../../schemas/errors.js';
import { generateToken, hashToken, type Principal } from './tokens.js';

export type TokenScope = 'operator' | 'advertiser';

/** A token as listed: everything but the secret. Times are UTC epoch ms. */
export interface TokenInfo {
  readonly id: string;
  readonly scope: TokenScope;
  readonly advertiserId: string | null;
  readonly name: string | null;
  readonly createdAtMs: number;
  readonly lastUsedAtMs: number | null;
  readonly revokedAtMs: number | null;
}

interface TokenRow {
  id: string;
  scope: TokenScope;
  advertiser_id: string | null;
  name: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const toInfo = (r: TokenRow): TokenInfo => ({
  id: r.id, scope: r.scope, advertiserId: r.advertiser_id, name: r.name, createdAtMs: r.created_at.getTime(),
  lastUsedAtMs: r.last_used_at?.getTime() ?? null, revokedAtMs: r.revoked_at?.getTime() ?? null,
});

/** last_used_at is written at most this often per token, so authenticating is a read, not a write, per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export class TokenStore {
  constructor(private readonly sql: postgres.Sql) {}

  /**
   * Creates a token; `token` is the plaintext, to hand to its user once (it cannot be recovered).
   * advertiser_not_found when the advertiser of an advertiser-scope token does not exist.
   */
  async create(t: { scope: 'operator' } | { scope: 'advertiser'; advertiserId: string }, name: string | null = null): Promise<{ ok: true; token: string; info: TokenInfo } | { ok: false; reason: 'advertiser_not_found' }> {
    const token = generateToken();
    const advertiserId = t.scope === 'advertiser' ? t.advertiserId : null;
    const rows = await this.query((db) => db<TokenRow[]>`
      insert into api_tokens (id, token_hash, scope, advertiser_id, name)
      select ${`tok-${randomUUID()}`}, ${hashToken(token)}, ${t.scope}, ${advertiserId}, ${name}
      where ${advertiserId}::text is null or exists (select 1 from advertisers where id = ${advertiserId})
      returning id, scope, advertiser_id, name, created_at, last_used_at, revoked_at`);
    const row = rows[0];
    return row ? { ok: true, token, info: toInfo(row) } : { ok: false, reason: 'advertiser_not_found' };
  }

  /** Every token (revoked ones too), oldest first; optionally one advertiser's. */
  async list(filter: { advertiserId?: string } = {}): Promise<TokenInfo[]> {
    const rows = await this.query((db) => db<TokenRow[]>`
      select id, scope, advertiser_id, name, created_at, last_used_at, revoked_at from api_tokens
      where ${filter.advertiserId ?? null}::text is null or advertiser_id = ${filter.advertiserId ?? null}
      order by created_at, id`);
    return rows.map(toInfo);
  }

  /** Revokes the token (idempotent: an already revoked token keeps its first revocation time); null if unknown. */
  async revoke(id: string): Promise<TokenInfo | null> {
    const rows = await this.query((db) => db<TokenRow[]>`
      update api_tokens set revoked_at = coalesce(revoked_at, now()) where id = ${id}
      returning id, scope, advertiser_id, name, created_at, last_used_at, revoked_at`);
    return rows[0] ? toInfo(rows[0]) : null;
  }

  /** The principal of a valid (known, unrevoked) token, or null. Looked up by the token's hash. */
  async authenticate(token: string): Promise<Principal | null> {
    const [row] = await this.query((db) => db<Array<{ id: string; scope: TokenScope; advertiser_id: string | null; stale: boolean }>>`
      select id, scope, advertiser_id,
        (last_used_at is null or last_used_at < now() - make_interval(secs => ${LAST_USED_RESOLUTION_MS / 1000})) as stale
      from api_tokens where token_hash = ${hashToken(token)} and revoked_at is null`);
    if (!row) return null;
    if (row.stale) {
      // Best effort: a failed bookkeeping write must not fail the request it describes.
      void this.sql`update api_tokens set last_used_at = now() where id = ${row.id}`.catch(() => undefined);
    }
    return row.scope === 'operator' ? { scope: 'operator', tokenId: row.id } : { scope: 'advertiser', tokenId: row.id, advertiserId: row.advertiser_id! };
  }

  private async query<T>(fn: (db: postgres.Sql) => Promise<T>): Promise<T> {
    try {
      return await fn(this.sql);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if ((err as { name?: string }).name === 'PostgresError' || typeof code !== 'string') throw err;
      throw new PipelineError('DEPENDENCY_UNAVAILABLE', `Postgres is unreachable (${code})`, { cause: err });
    }
  }
}
