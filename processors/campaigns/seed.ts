/**
 * Seeds a demo catalogue: advertisers and campaigns through the store (Postgres) and the publisher
 * (the campaigns topic), and user profiles in Redis for `user-0 .. user-N-1`.
 *
 *   node --import tsx processors/campaigns/seed.ts [--campaigns 300] [--advertisers 8] [--users 10000] [--seed 42] [--prefix ""]
 *
 * Deterministic for a --seed (seed-catalogue.ts) and idempotent: ids are stable (adv-01, cmp-0001,
 * cmp-0001-cr-1), so a re-run updates the same rows (a new version each) instead of adding more.
 * --prefix namespaces every id (advertisers, campaigns, creatives, users), for tests.
 */
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { createRedis } from '../runtime/redis.js';
import { postgresTls } from '../runtime/postgres.js';
import { commonSpecs, loadConfig, postgresSpecs, redisSpecs } from '../../schemas/config.js';
import { createLogger } from '../runtime/logger.js';
import { createKafka } from '../runtime/kafka.js';
import { AvroCodec } from '../../schemas/codec.js';
import { TOPICS, registerTopicSchemas } from '../../schemas/topics.js';
import { migrate } from '../../schemas/postgres/migrate.js';
import { encodeProfile } from '../domain/profile-format.js';
import { profileKey } from '../domain/redis-keys.js';
import { CampaignStore, type StoredCampaign } from './store.js';
import { CampaignPublisher, createCampaignProducer, ensureCampaignsTopic } from './publisher.js';
import { seedAdvertiser, seedCampaign, seedProfile } from './seed-catalogue.js';

const BATCH = 50;
const REDIS_BATCH = 1000;

function options(): { campaigns: number; advertisers: number; users: number; seed: number; prefix: string } {
  const { values } = parseArgs({
    options: {
      campaigns: { type: 'string', default: '300' }, advertisers: { type: 'string', default: '8' },
      users: { type: 'string', default: '10000' }, seed: { type: 'string', default: '42' }, prefix: { type: 'string', default: '' },
    },
  });
  const count = (name: 'campaigns' | 'advertisers' | 'users' | 'seed', min: number, max: number): number => {
    const raw = values[name];
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) throw new Error(`--${name} ${JSON.stringify(raw)} is invalid: must be an integer from ${min} to ${max}`);
    return n;
  };
  if (!/^[A-Za-z0-9._:-]{0,100}$/.test(values.prefix)) throw new Error('--prefix may only use A-Z, a-z, 0-9, ".", "_", ":" and "-"');
  return {
    campaigns: count('campaigns', 0, 9999), advertisers: count('advertisers', 1, 99), users: count('users', 0, 10_000_000),
    seed: count('seed', 0, 2 ** 32 - 1), prefix: values.prefix,
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const opts = options();
  const cfg = loadConfig({ ...commonSpecs, ...postgresSpecs, ...redisSpecs });
  const log = createLogger('seed', cfg.logLevel === 'info' ? 'warn' : cfg.logLevel);
  const out = (line: string): boolean => process.stdout.write(`seed: ${line}\n`);
  const sql = postgres(cfg.postgresUrl, { max: 8, onnotice: () => undefined, ...postgresTls(cfg) });
  const redis = createRedis(cfg, { lazyConnect: true, maxRetriesPerRequest: 2 });
  const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'seed', log, security: cfg });
  const producer = createCampaignProducer(kafka, 10_000);
  try {
    for (const name of await migrate(sql)) out(`applied migration ${name}`);
    const admin = kafka.admin();
    await admin.connect();
    await ensureCampaignsTopic(admin, { numPartitions: cfg.topicPartitions, replicationFactor: cfg.topicReplication });
    await admin.disconnect();
    const codec = new AvroCodec(cfg.schemaRegistryUrl);
    await registerTopicSchemas(codec, [TOPICS.campaigns]);
    await producer.connect();
    const store = new CampaignStore(sql);
    const publisher = new CampaignPublisher(producer, codec);

    const advertisers = Array.from({ length: opts.advertisers }, (_, i) => seedAdvertiser(opts.seed, i, opts.prefix));
    for (const a of advertisers) await store.upsertAdvertiser({ id: a.id, name: a.name });

    const saved: StoredCampaign[] = [];
    for (let i = 0; i < opts.campaigns; i += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, opts.campaigns - i) }, (_, k) => seedCampaign(opts.seed, i + k, advertisers, opts.prefix));
      const results = await Promise.all(batch.map((c) => store.upsertCampaign(c)));
      const stored = results.map((r, k) => {
        if (!r.ok) throw new Error(`campaign ${batch[k]!.id} was refused: ${r.reason}`);
        return r.value;
      });
      await Promise.all(stored.map((c) => publisher.publish(c)));
      saved.push(...stored);
    }

    if (opts.users > 0) await redis.connect();
    for (let i = 0; i < opts.users; i += REDIS_BATCH) {
      const pipeline = redis.pipeline();
      for (let u = i; u < Math.min(opts.users, i + REDIS_BATCH); u++) pipeline.set(profileKey(`${opts.prefix}user-${u}`), encodeProfile(seedProfile(opts.seed, u)));
      for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
    }

    const by = (status: string): number => saved.filter((c) => c.status === status).length;
    out(`${advertisers.length} advertisers (${advertisers[0]?.id ?? '-'} .. ${advertisers[advertisers.length - 1]?.id ?? '-'})`);
    out(`${saved.length} campaigns: ${saved.filter((c) => c.version === 1).length} created, ${saved.filter((c) => c.version > 1).length} updated; ` +
      `${by('active')} active, ${by('paused')} paused, ${by('ended')} ended; ${saved.reduce((n, c) => n + c.creatives.length, 0)} creatives; published to ${TOPICS.campaigns}`);
    out(`${opts.users} user profiles in Redis (${profileKey(`${opts.prefix}user-0`)} ..)`);
    out(`done in ${Math.round(performance.now() - started)} ms (seed ${opts.seed})`);
  } finally {
    await producer.disconnect().catch(() => undefined);
    redis.disconnect();
    await sql.end({ timeout: 5 });
  }
}

try {
  await main();
} catch (err) {
  process.stderr.write(`seed: FAILED: ${(err as Error).message}\n`);
  process.exit(1);
}
