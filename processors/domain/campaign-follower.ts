/**
 * The campaign catalogue as a bidder holds it: a TableFollower on the compacted campaigns topic that
 * maps records to `Campaign` and keeps the newest `updatedAtMs` per id, so the republisher's re-sends
 * and any late delivery can never roll a campaign back. Feed `onUpsert`/`onDelete` into a CampaignIndex.
 */
import { TableFollower } from '../runtime/table-follower.js';
import type { Kafka } from '../runtime/kafka.js';
import type { Logger } from '../runtime/logger.js';
import type { AvroCodec } from '../../schemas/codec.js';
import { TOPICS } from '../../schemas/topics.js';
import { recordToCampaign, type CampaignRecord } from './campaign-record.js';
import type { Campaign } from './campaign.js';

export function createCampaignFollower(opts: {
  kafka: Kafka;
  codec: AvroCodec;
  log: Logger;
  onUpsert?: (id: string, campaign: Campaign) => void;
  onDelete?: (id: string) => void;
  idleMs?: number;
  /** Default: the pipeline's campaigns topic; the reader subject is `<topic>-value`. */
  topic?: string;
}): TableFollower<Campaign> {
  return new TableFollower<Campaign>({
    ...opts,
    topic: opts.topic ?? TOPICS.campaigns,
    map: (decoded) => recordToCampaign(decoded as CampaignRecord),
    // Equal timestamps re-apply (idempotent), as CampaignIndex.upsert does.
    accept: (incoming, current) => current === undefined || incoming.updatedAtMs >= current.updatedAtMs,
  });
}
