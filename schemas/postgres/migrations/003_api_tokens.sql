-- Bearer tokens of the campaign management API (processors/campaigns/token-store.ts). Only the SHA-256
-- of a token is stored: the plaintext (rtbk_ + 32 random bytes, base64url) is shown once, when it is
-- created. A token is either an operator's (everything) or one advertiser's (its own campaigns only).
-- The bootstrap operator token comes from the service's configuration and is not in this table.

create table api_tokens (
  id text primary key check (id ~ '^[A-Za-z0-9._:-]{1,200}$'),
  token_hash bytea not null unique check (length(token_hash) = 32),
  scope text not null check (scope in ('operator', 'advertiser')),
  advertiser_id text references advertisers (id) on delete cascade,
  name text check (name is null or length(name) between 1 and 200),
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  check ((scope = 'advertiser') = (advertiser_id is not null))
);

create index api_tokens_advertiser_id_idx on api_tokens (advertiser_id);

comment on table api_tokens is 'Bearer tokens of the campaign management API, stored hashed; revoked rows are kept for the record.';
comment on column api_tokens.id is 'Public token id (tok-<uuid>): listed, and used to revoke; never the secret.';
comment on column api_tokens.token_hash is 'SHA-256 of the token (high-entropy random secret, so an unsalted fast hash is enough); looked up by equality.';
comment on column api_tokens.scope is 'operator: every route, including tokens and advertisers; advertiser: the campaigns and creatives of advertiser_id only.';
comment on column api_tokens.advertiser_id is 'The advertiser an advertiser-scope token acts for (null for operator tokens); its tokens go with it.';
comment on column api_tokens.name is 'Optional label given at creation (who or what uses the token).';
comment on column api_tokens.created_at is 'When the token was created (UTC).';
comment on column api_tokens.last_used_at is 'Last successful authentication (UTC), updated at most once a minute; null = never used.';
comment on column api_tokens.revoked_at is 'When the token was revoked (UTC); a revoked token authenticates nothing. null = valid.';
