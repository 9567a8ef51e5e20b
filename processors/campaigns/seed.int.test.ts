/** The seed script as a real process on the local stack (small sizes, a unique --prefix per run). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { commonSpecs, loadConfig, postgresSpecs, redisSpecs } from '../../schemas/config.js';
import { createLogger } from '../runtime/logger.js';
import { createKafka, type Producer } from '../runtime/kafka.js';
import type { TableFollower } from '../runtime/table-follower.js';
import { AvroCodec } from '../../schemas/codec.js';
import { TOPICS, registerTopicSchemas } from '../../schemas/topics.js';
import { decodeProfile } from '../domain/profile-format.js';
import { profileKey } from '../domain/redis-keys.js';
import { createCampaignFollower } from '../domain/campaign-follower.js';
import { purgeAdvertisers } from './campaign-cleanup.js';
import { seedProfile } from './seed-catalogue.js';
import type { Campaign } from '../domain/campaign.js';
import { waitFor } from '../testing/wait.js';

const cfg = loadConfig({ ...commonSpecs, ...postgresSpecs, ...redisSpecs });
const log = createLogger('seed-test', 'error');
const prefix = `seedtest-${randomUUID().slice(0, 8)}-`;
const script = fileURLToPath(new URL('./seed.ts', import.meta.url));
const sizes = { campaigns: 25, advertisers: 3, users: 40 };
const sql = postgres(cfg.postgresUrl, { max: 2, onnotice: () => undefined });
const redis = new Redis(cfg.redisUrl);
const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'seed-test', log });
let producer: Producer;
let follower: TableFollower<Campaign>;

async function seed(...extra: string[]): Promise<string> {
  const args = ['--campaigns', String(sizes.campaigns), '--advertisers', String(sizes.advertisers), '--users', String(sizes.users), '--prefix', prefix, ...extra];
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, ...args], { env: { ...process.env, LOG_LEVEL: 'warn' }, timeout: 60_000 });
  return stdout;
}

const seeded = (): Campaign[] => [...follower.entries()].filter(([id]) => id.startsWith(prefix)).map(([, c]) => c);

before(async () => {
  producer = kafka.producer();
  await producer.connect();
});
after(async () => {
  await follower?.stop();
  await purgeAdvertisers(sql, producer, Array.from({ length: sizes.advertisers }, (_, i) => `${prefix}adv-${String(i + 1).padStart(2, '0')}`));
  await redis.del(...Array.from({ length: sizes.users }, (_, i) => profileKey(`${prefix}user-${i}`)));
  await producer.disconnect();
  redis.disconnect();
  await sql.end();
});

test('seed script creates the catalogue, publishes it for followers and writes user profiles', async () => {
  const stdout = await seed();
  assert.match(stdout, new RegExp(`${sizes.campaigns} campaigns: ${sizes.campaigns} created, 0 updated`));
  assert.match(stdout, new RegExp(`${sizes.users} user profiles in Redis`));
  const rows = await sql<{ id: string }[]>`select id from campaigns where id like ${`${prefix}%`} order by id`;
  assert.equal(rows.length, sizes.campaigns);
  assert.equal(rows[0]?.id, `${prefix}cmp-0001`);

  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  await registerTopicSchemas(codec, [TOPICS.campaigns]);
  follower = createCampaignFollower({ kafka, codec, log });
  await follower.start();
  await follower.ready;
  assert.equal(seeded().length, sizes.campaigns, 'a follower that starts after the seed has every seeded campaign once ready');
  const cpms = seeded().map((c) => c.bidCpmMicros);
  assert.ok(cpms.every((m) => m >= 500_000 && m <= 8_000_000));

  const raw = await redis.mget(...Array.from({ length: sizes.users }, (_, i) => profileKey(`${prefix}user-${i}`)));
  assert.ok(raw.every((v) => v !== null), 'every user has a profile');
  assert.deepEqual(decodeProfile(raw[7] ?? null), seedProfile(42, 7));
});

test('seed script re-run updates the same campaigns instead of duplicating them, and followers see the new versions', async () => {
  const before = new Map(seeded().map((c) => [c.id, c.updatedAtMs]));
  assert.equal(before.size, sizes.campaigns);
  const stdout = await seed();
  assert.match(stdout, new RegExp(`${sizes.campaigns} campaigns: 0 created, ${sizes.campaigns} updated`));
  const [row] = await sql<{ n: number; v: number }[]>`select count(*)::int as n, min(version)::int as v from campaigns where id like ${`${prefix}%`}`;
  assert.deepEqual(row, { n: sizes.campaigns, v: 2 });
  await waitFor(() => seeded().every((c) => c.updatedAtMs > before.get(c.id)!), { what: 'the re-seeded versions', timeoutMs: 15_000, intervalMs: 25 });
  assert.equal(seeded().length, sizes.campaigns);
});

test('seed script rejects a bad option with one clear line and a non-zero exit', async () => {
  await assert.rejects(seed('--users', 'lots'), (err: { code?: number; stderr?: string }) => {
    assert.equal(err.code, 1);
    assert.match(String(err.stderr), /seed: FAILED: --users "lots" is invalid/);
    return true;
  });
});
