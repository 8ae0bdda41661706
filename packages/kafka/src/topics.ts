import type { Admin } from 'kafkajs';
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
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: layout.partitions, replicationFactor: layout.replicationFactor })),
    });
    log?.info(`created topics ${missing.join(', ')} (${layout.partitions} partitions, replication factor ${layout.replicationFactor})`);
  }
  const metadata = await admin.fetchTopicMetadata({ topics: [topics.changes] });
  const changes = metadata.topics[0];
  if (changes && changes.partitions.length !== layout.partitions) {
    log?.warn(`topic ${topics.changes} has ${changes.partitions.length} partitions, kafka.partitions says ${layout.partitions}: the topic is used as it is`);
  }
}
