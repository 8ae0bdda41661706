import { formatLsn, type StoreBundle, type WalauditConfig, retryWhileRetriable, type StoredBatchObserver, type StoredBatchStream } from '@walaudit/core';
import { notificationText, type Alerter } from '@walaudit/alerter';
import type { Correlator } from '@walaudit/correlator';
import { Partitioners, alertsTopicName, createKafkaClient, kafkaAlertsNotifier } from '@walaudit/kafka';
import type { CascadeApi } from '@walaudit/api';
import type { Registry } from 'prom-client';
import { createConfiguredAlerter } from '../../alerts-wiring.js';
import { cascadeApi, createConfiguredCorrelator } from '../../cascade-services.js';
import type { Logger } from '../../logger.js';
import { perPartition } from './per-partition.js';

export interface DistributedObservers {
  /** For the writer's audit writers: each stored batch, with its partition. */
  observers: StoredBatchObserver[];
  alerter: Alerter | null;
  cascade: CascadeApi;
  close(): Promise<void>;
}

/**
 * The alerter and the correlator beside a distributed writer, fed by the batches its audit
 * writers (one per partition) store, before the partition's offsets are committed.
 *
 * Alerts: one alerter for all partitions of this writer. With several writers the windows must be
 * shared (`alerts.windowStore: redis`): in memory each writer would count only the deletions of its
 * own partitions, so an actor whose transactions hash to two writers could stay below the threshold
 * on both. Each alert also goes to `<prefix>.alerts`.
 *
 * Cascade links: one correlator per partition. The message key is the transaction id, so one
 * transaction's deletes (the parent and everything its ON DELETE CASCADE removed) are all in one
 * partition, in order, and a partition's correlator sees the whole transaction; a single correlator
 * for interleaved partitions would lose a transaction's parents whenever another partition's batch
 * came between two of its chunks, and would skip older positions of a slower partition.
 *
 * When this writer takes a partition (at start, or at a rebalance), the previous owner may have
 * stored a chunk and died before its links were stored; those messages come back uncommitted, but
 * as replays the audit writer does not pass them on. It names instead where the partition resumed
 * (`unobservedFrom`: the first message after the committed offset), and the correlator links the
 * partition's stored entries again from that transaction on, before the batch. That also gives it
 * the head of a transaction the partition resumed in the middle of (a chunk committed before),
 * so the rest finds its parents. A link stored twice is the same row (same entry, parent and root):
 * it collapses in `cascade_links` (ReplacingMergeTree), and reads take one per entry.
 */
export async function startDistributedObservers(config: WalauditConfig, stores: Pick<StoreBundle, 'alerts' | 'cascadeLinks'>, registry: Registry, log: Logger): Promise<DistributedObservers> {
  const observers: StoredBatchObserver[] = [];
  let alerter: Alerter | null = null;
  if (config.alerts.enabled) {
    if (config.alerts.windowStore === 'memory') {
      log.warn('alerts.windowStore is memory: correct with one writer only; with several writers, set alerts.windowStore: redis so they count one window');
    }
    const kafka = createKafkaClient(config.kafka, log.child('kafkajs'));
    const topic = alertsTopicName(config.kafka.topicPrefix);
    const kafkaChannel = kafkaAlertsNotifier({
      producer: kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner }),
      admin: kafka.admin(),
      topic,
      layout: config.kafka,
      brokers: config.kafka.brokers,
      textOf: notificationText,
      log: log.child('alerts'),
    });
    kafkaChannel.prepare().catch((error: unknown) => log.warn(`cannot create ${topic} yet (the first alert retries): ${String(error)}`));
    alerter = createConfiguredAlerter({ config, alertStore: stores.alerts, registry, sourceUrl: config.source.url, log: log.child('alerts'), extraNotifiers: [kafkaChannel] });
    // Rebuilt from the whole store (every partition): with Redis the replay only looks for alerts a
    // crash lost (their ids are stable, so one already stored is not sent again).
    await alerter.rebuild();
    observers.push(alerter.observe);
  }

  const links = stores.cascadeLinks;
  const cascade = cascadeApi(links);
  const sourceUrl = config.source.url;
  if (config.cascade.links && !sourceUrl) {
    log.warn('cascade links off on this writer: it reads the foreign keys from the audited database; set source.url (DATABASE_URL)');
  } else if (config.cascade.links && sourceUrl) {
    const retry = { initialMs: config.pipeline.retryInitialMs, maxMs: config.pipeline.retryMaxMs };
    const startCorrelator = async (partition: number) => {
      const correlator = createConfiguredCorrelator(config, links, sourceUrl, log.child(`cascade[${partition}]`));
      await retryWhileRetriable(() => correlator.start(), { ...retry, onRetry: (n, ms, error) => log.warn(`cannot read the foreign keys (attempt ${n}), retrying in ${ms} ms: ${String(error)}`) });
      return async (stored: Parameters<Correlator['observe']>[0], stream: StoredBatchStream) => {
        // Not the slot's confirmed position as standalone: the slot is confirmed when Kafka has the
        // events, not when they are stored, so it does not mark what a writer left unlinked.
        if (stream.unobservedFrom) {
          const relinked = await correlator.recover(stream.unobservedFrom.lsn, { partition });
          if (relinked > 0) log.info(`partition ${partition} resumed in the transaction at ${formatLsn(stream.unobservedFrom.lsn)}: linked the ${relinked} cascaded rows stored from there on (some again)`);
        }
        await correlator.observe(stored);
      };
    };
    observers.push(perPartition(startCorrelator));
  }
  return {
    observers,
    alerter,
    cascade,
    async close() {
      await alerter?.close();
    },
  };
}
