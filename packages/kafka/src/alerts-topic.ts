import type { Admin, Message, Producer } from 'kafkajs';
import { WalauditError, type Alert, type AlertEvent, type Notifier } from '@walaudit/core';
import type { KafkaLog } from './kafka-client.js';
import type { TopicLayout } from './topics.js';

/** `<prefix>.alerts`: one message per alert raised, updated or acknowledged (schemas/kafka-messages.md). */
export function alertsTopicName(prefix: string): string {
  return `${prefix}.alerts`;
}

/**
 * Keyed by alert id: every version of one alert lands in one partition, in the order sent, so a
 * consumer that compacts or groups by key keeps one incident per alert (as PagerDuty's dedup_key).
 * The value is the webhook's body; `alert.version` orders versions should a retry reorder them.
 */
export function alertMessage(alert: Alert, event: AlertEvent, text: string): Message {
  return {
    key: alert.id,
    value: JSON.stringify({ text, event, alert }),
    headers: {
      'content-type': 'application/json',
      'walaudit-schema': 'alert',
      'walaudit-schema-version': '1',
      'walaudit-alert-event': event,
    },
  };
}

/** Creates `<prefix>.alerts` when absent (alerts are few: the configured partitions are plenty). */
export async function ensureAlertsTopic(admin: Admin, topic: string, layout: TopicLayout, log?: KafkaLog): Promise<void> {
  if ((await admin.listTopics()).includes(topic)) return;
  // False when another writer created it first; its producer waits for the leaders when it sends.
  const created = await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: layout.partitions, replicationFactor: layout.replicationFactor }] });
  if (created) log?.info(`created topic ${topic} (${layout.partitions} partitions, replication factor ${layout.replicationFactor})`);
}

export interface KafkaAlertsNotifierDeps {
  /** A producer of its own (not the writers'): connected on the first alert, again after a failure. */
  producer: Producer;
  admin: Admin;
  topic: string;
  layout: TopicLayout;
  brokers: readonly string[];
  /** The one-line text the other channels show (the alerter's notificationText). */
  textOf: (alert: Alert, event: AlertEvent) => string;
  log?: KafkaLog;
}

export interface KafkaAlertsNotifier extends Notifier {
  /** Connects and creates the topic ahead of the first alert, so consumers can subscribe at once. */
  prepare(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The alerter's Kafka channel: each send is one message acknowledged by all in-sync replicas. A
 * failure is a retriable NOTIFY_FAILED: the alerter's delivery queue retries it with backoff,
 * never holding the pipeline.
 */
export function kafkaAlertsNotifier(deps: KafkaAlertsNotifierDeps): KafkaAlertsNotifier {
  let ready: Promise<void> | null = null;
  const connect = () =>
    (ready ??= (async () => {
      await Promise.all([deps.producer.connect(), deps.admin.connect()]);
      await ensureAlertsTopic(deps.admin, deps.topic, deps.layout, deps.log);
    })().catch((error: unknown) => {
      ready = null;
      throw error;
    }));
  return {
    channel: 'kafka',
    prepare: connect,
    async send(alert: Alert, event: AlertEvent, signal: AbortSignal): Promise<void> {
      const sending = (async () => {
        await connect();
        await deps.producer.send({ topic: deps.topic, acks: -1, messages: [alertMessage(alert, event, deps.textOf(alert, event))] });
      })();
      const aborted = new Promise<never>((_, reject) => {
        const onAbort = () => reject(new Error('timed out'));
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        await Promise.race([sending, aborted]);
      } catch (error) {
        sending.catch(() => {});
        throw new WalauditError('NOTIFY_FAILED', `kafka: cannot send alert ${alert.id} to ${deps.topic} (brokers ${deps.brokers.join(', ')}): ${(error as Error).message}`, { retriable: true, cause: error });
      }
    },
    async close(): Promise<void> {
      await deps.producer.disconnect().catch(() => {});
      await deps.admin.disconnect().catch(() => {});
    },
  };
}
