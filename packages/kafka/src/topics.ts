import type { Admin, ITopicMetadata } from 'kafkajs';
import type { KafkaLog, TopicNames } from './kafka-client.js';

export interface TopicLayout {
  partitions: number;
  replicationFactor: number;
}

/**
 * Creates walaudit's topics when absent, with the configured partitions and replication factor.
 * An existing topic is left as it is (a DBA may have created it with other settings); a partition
 * count other than the configured one is logged, since it changes which writer gets which
 * transactions (see schemas/kafka-messages.md).
 */
export async function ensureTopics(admin: Admin, topics: TopicNames, layout: TopicLayout, log?: KafkaLog): Promise<void> {
  const wanted = [topics.changes, topics.transactions, topics.deadLetter];
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((topic) => !existing.has(topic));
  if (missing.length > 0) {
    // False when another process (the reader and a writer starting together) created them first.
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: layout.partitions, replicationFactor: layout.replicationFactor })),
    });
    if (created) log?.info(`created topics ${missing.join(', ')} (${layout.partitions} partitions, replication factor ${layout.replicationFactor})`);
  }
  const changes = await metadataOnceLed(admin, topics.changes);
  if (changes && changes.partitions.length !== layout.partitions) {
    log?.warn(`topic ${topics.changes} has ${changes.partitions.length} partitions, kafka.partitions says ${layout.partitions}: the topic is used as it is`);
  }
}

const LEADERLESS = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);
const LEADER_WAIT_MS = 30_000;

/**
 * A topic another process has just created exists before its partitions have leaders, and
 * createTopics' waitForLeaders only covers topics this call created: until then the broker answers
 * metadata requests for it with one of LEADERLESS.
 */
async function metadataOnceLed(admin: Admin, topic: string): Promise<ITopicMetadata | undefined> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  for (;;) {
    try {
      return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0];
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (!type || !LEADERLESS.has(type) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
