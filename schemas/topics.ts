/**
 * The pipeline's topics and their value schemas. Subjects follow TopicNameStrategy (`<topic>-value`);
 * the .avsc files in schemas/avro are the source of truth.
 */
import { readFileSync } from 'node:fs';
import type { AvroCodec, AvroSchemaJson } from './codec.js';

export const TOPICS = {
  bidRequests: 'bid-requests',
  bidRequestsEnriched: 'bid-requests-enriched',
  bids: 'bids',
  auctionOutcomes: 'auction-outcomes',
  campaigns: 'campaigns',
  trackingEvents: 'tracking-events',
  lossNotices: 'loss-notices',
  windowCounts: 'window-counts',
  deadLetters: 'dead-letters',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** Which .avsc file holds each topic's value schema. */
export const TOPIC_SCHEMAS: Readonly<Record<TopicName, string>> = {
  'bid-requests': 'bid-request.avsc',
  'bid-requests-enriched': 'bid-request.avsc',
  bids: 'bid-set.avsc',
  'auction-outcomes': 'auction-outcome.avsc',
  campaigns: 'campaign.avsc',
  'tracking-events': 'tracking-event.avsc',
  'loss-notices': 'loss-notice.avsc',
  'window-counts': 'window-count.avsc',
  'dead-letters': 'dead-letter.avsc',
};

export function subjectFor(topic: string): string {
  return `${topic}-value`;
}

export function loadSchema(file: string): AvroSchemaJson {
  return JSON.parse(readFileSync(new URL(`./avro/${file}`, import.meta.url), 'utf8')) as AvroSchemaJson;
}

/** Registers (idempotently) the value schema of each topic and caches its id in the codec. */
export async function registerTopicSchemas(codec: AvroCodec, topics: readonly TopicName[]): Promise<void> {
  for (const topic of topics) await codec.register(subjectFor(topic), loadSchema(TOPIC_SCHEMAS[topic]));
}
