/**
 * Test support for the campaign API's tests: the pipeline's campaigns topic (created if missing, its schema
 * registered), a connected campaign producer and a follower that has loaded the topic, to publish with and
 * read back. The caller stops the follower and disconnects the producer. Not used by production code.
 */
import type { AvroCodec } from '../../schemas/codec.js';
import { TOPICS, registerTopicSchemas } from '../../schemas/topics.js';
import type { Kafka, Producer } from '../runtime/kafka.js';
import type { Logger } from '../runtime/logger.js';
import type { TableFollower } from '../runtime/table-follower.js';
import type { Campaign } from '../domain/campaign.js';
import { createCampaignFollower } from '../domain/campaign-follower.js';
import { createCampaignProducer, ensureCampaignsTopic } from '../campaigns/publisher.js';

export async function campaignsTopic(
  kafka: Kafka, codec: AvroCodec, cfg: { topicPartitions: number; topicReplication: number }, log: Logger,
): Promise<{ producer: Producer; follower: TableFollower<Campaign> }> {
  const admin = kafka.admin();
  await admin.connect();
  await ensureCampaignsTopic(admin, { numPartitions: cfg.topicPartitions, replicationFactor: cfg.topicReplication });
  await admin.disconnect();
  await registerTopicSchemas(codec, [TOPICS.campaigns]);
  const producer = createCampaignProducer(kafka, 5000);
  await producer.connect();
  const follower = createCampaignFollower({ kafka, codec, log });
  await follower.start();
  await follower.ready;
  return { producer, follower };
}
