/**
 * Test support: removes what a test created for some advertisers, from Postgres and from the campaigns
 * topic (a tombstone per campaign, so followers such as a running bidder drop them too). Not used by
 * production code: the API has no delete.
 */
import type postgres from 'postgres';
import type { Producer } from '../runtime/kafka.js';
import { TOPICS } from '../../schemas/topics.js';

export async function purgeAdvertisers(sql: postgres.Sql, producer: Producer, advertiserIds: readonly string[]): Promise<string[]> {
  const ids = [...advertiserIds];
  const campaigns = await sql.begin(async (tx) => {
    const rows = await tx<{ id: string }[]>`delete from campaigns where advertiser_id = any(${ids}) returning id`;
    await tx`delete from advertisers where id = any(${ids})`;
    return rows.map((r) => r.id);
  });
  if (campaigns.length > 0) await producer.send({ topic: TOPICS.campaigns, messages: campaigns.map((id) => ({ key: id, value: null })) });
  return campaigns;
}
