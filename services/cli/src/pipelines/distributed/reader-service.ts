import { actorTagOptions, type RuleContext, type WalauditConfig, withAuditRules } from '@walaudit/core';
import { PgReplicationSource, SlotMonitor, connectionLabel } from '@walaudit/pg';
import { createWalReader, type WalReader } from '@walaudit/wal-reader';
import { connectIdempotentProducer, changeEncoderFor, createKafkaChangeSink, createKafkaClient, ensureTopics, toKafkaError, topicNames } from '@walaudit/kafka';
import type { PipelineMetrics } from '@walaudit/api';
import type { Logger } from '../../logger.js';
import type { ServiceState } from './service-state.js';
import type { KafkaMetrics } from './kafka-metrics.js';
import { slotSessions } from '../slot-sessions.js';

export interface ReaderServiceDeps {
  config: WalauditConfig;
  sourceUrl: string;
  metrics: PipelineMetrics;
  kafkaMetrics: KafkaMetrics;
  state: ServiceState;
  log: Logger;
  /** The rules, when they change at run time (LiveRules); default: the config's. */
  rules?: RuleContext;
}

export interface ReaderService {
  run(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Distributed mode's reader: slot -> audit rules -> Kafka. The slot is confirmed only after Kafka
 * acknowledged every message up to it (the wal-reader confirms after sink.write resolves), so a
 * crash loses nothing; its replay publishes the same events again, with the same ids.
 */
export function createReaderService(deps: ReaderServiceDeps): ReaderService {
  const { config, metrics, kafkaMetrics, state, log } = deps;
  const topics = topicNames(config.kafka.topicPrefix);
  let reader: WalReader | null = null;
  let stopping = false;
  let wake: () => void = () => {};

  const runOnce = async () => {
    const kafka = createKafkaClient(config.kafka, log.child('kafkajs'));
    const admin = kafka.admin();
    try {
      await admin.connect();
      await ensureTopics(admin, topics, config.kafka, log);
    } catch (error) {
      throw toKafkaError(error, 'creating the topics', config.kafka.brokers);
    } finally {
      await admin.disconnect().catch(() => {});
    }
    // librdkafka's idempotent producer (acks from all in-sync replicas, sequence numbers): a
    // retried send is not written twice, and a broker restart only delays the batch.
    const producer = await connectIdempotentProducer(config.kafka, log.child('librdkafka'));
    try {
      const encoder = await changeEncoderFor(config.kafka, topics.changes);
      // stop() during the connects above found no reader to stop: do not start one.
      if (stopping) return;
      // The rules before Kafka: dropped tables and masked values never reach the topics.
      const sink = withAuditRules(
        createKafkaChangeSink({
          encoder,
          producer,
          topics,
          onPublished: (published) => {
            state.published += published;
            kafkaMetrics.published.inc(published);
          },
        }),
        deps.rules ?? { rules: config.rules, defaultRetentionDays: config.retention.defaultDays, hashKey: config.masking.hashKey },
        (dropped) => metrics.eventsSkipped.inc(dropped),
      );
      const source = new PgReplicationSource({ url: deps.sourceUrl, slot: config.source.slot, publication: config.source.publication });
      reader = createWalReader({
        source,
        sink,
        options: { batchSize: config.pipeline.batchSize, flushIntervalMs: config.pipeline.flushIntervalMs },
        tagOptions: actorTagOptions(config.actor),
        onNotice: (notice) => log.warn(notice.message),
        onTransaction: () => metrics.transactions.inc(),
        onWritten: (events) => state.decoded(events),
        onConfirmed: (lsn) => metrics.confirmedLsn.set(Number(lsn)),
      });
      // Advisory, before the first change: a slot about to be lost, partitions added after setup.
      await state.checkSlot(true);
      state.running();
      log.info(`streaming slot ${config.source.slot} from ${connectionLabel(deps.sourceUrl)} to ${topics.changes} on ${config.kafka.brokers.join(',')}`);
      await reader.run();
    } finally {
      await producer.close().catch(() => {});
    }
  };

  return {
    async run() {
      const monitor = new SlotMonitor(deps.sourceUrl, config.source.slot);
      state.monitor = monitor;
      state.publication = config.source.publication;
      state.warn = (line) => log.warn(line);
      const sessions = slotSessions({ config, monitor, state, log, session: runOnce, cancelled: () => stopping });
      wake = sessions.wake;
      try {
        await sessions.run();
      } finally {
        // Detached first: a status request after this must not reopen the monitor's connection
        // (it connects on demand), which would keep the process from exiting.
        state.monitor = null;
        await monitor.close();
      }
    },
    async stop() {
      stopping = true;
      wake();
      await reader?.stop();
    },
  };
}
