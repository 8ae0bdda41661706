import type { Producer } from 'kafkajs';
import { applyAuditRules, WalauditError, type ChangeEvent, type ChangeSink, type RuleContext, type TransactionEnd } from '@walaudit/core';
import type { ChangeCodec } from './avro-codec.js';
import { encodeChangeMessage, type OutgoingMessage } from './change-message.js';
import type { TopicNames } from './kafka-client.js';
import { toKafkaError } from './kafka-errors.js';
import { encodeTransactionMarker } from './transaction-marker.js';

export interface KafkaChangeSinkDeps {
  /** An idempotent producer (acks from all in-sync replicas), connected. */
  producer: Producer;
  topics: TopicNames;
  rules: RuleContext;
  brokers: readonly string[];
  /** Avro through a schema registry; JSON when absent. */
  codec?: ChangeCodec;
  /** Called after each acknowledged batch: events published, events the rules dropped. */
  onPublished?: (published: number, dropped: number) => void;
}

/**
 * Bytes of records per produce request. kafkajs puts each partition's share of a request in one
 * record batch, and a broker refuses a batch over the topic's max.message.bytes (1 MiB by default):
 * 10,000 events of a few hundred bytes are several MiB. A big transaction has one key, so one
 * partition gets the whole request: the bound is per request, with room for the batch header.
 * Requests go one at a time: kafkajs's idempotent producer numbers a partition's batches only
 * once the previous one is acknowledged.
 */
const MAX_REQUEST_BYTES = 900 * 1024;
/** Per record beyond key, value and headers: lengths, offsets and timestamps as varints, at most. */
const RECORD_OVERHEAD_BYTES = 40;

function recordBytes(message: OutgoingMessage): number {
  let bytes = Buffer.byteLength(message.key) + Buffer.byteLength(message.value) + RECORD_OVERHEAD_BYTES;
  for (const name in message.headers) bytes += name.length + Buffer.byteLength(String(message.headers[name])) + 10;
  return bytes;
}

interface TopicMessage {
  topic: string;
  message: OutgoingMessage;
}

function chunkBySize(items: TopicMessage[]): TopicMessage[][] {
  const chunks: TopicMessage[][] = [];
  let current: TopicMessage[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = recordBytes(item.message);
    if (current.length > 0 && bytes + size > MAX_REQUEST_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** A transaction whose BEGIN may be out and whose END is not. */
interface OpenTransaction {
  xid: number;
  lsn: string;
  commitTime: string;
  published: number;
  tables: Record<string, number>;
}

/**
 * The reader's sink in distributed mode: applies the audit rules (so dropped tables and masked
 * values never reach Kafka) and publishes each event to `<prefix>.changes`, plus BEGIN and END
 * markers to `<prefix>.transactions`. write() resolves once Kafka acknowledged every message of
 * the batch (acks=all, idempotent producer): only then may the reader confirm the slot.
 *
 * A reader restart replays from the slot: the same events, with the same ids, are published
 * again. Writers drop them by position; a SIEM consumer dedups by `id` (or the event-id header).
 */
export function createKafkaChangeSink(deps: KafkaChangeSinkDeps): ChangeSink {
  const open: OpenTransaction[] = [];

  const openFor = (event: ChangeEvent): { tx: OpenTransaction; isNew: boolean } => {
    const last = open.at(-1);
    if (last && last.lsn === event.tx.lsn && last.xid === event.tx.xid) return { tx: last, isNew: false };
    const tx: OpenTransaction = { xid: event.tx.xid, lsn: event.tx.lsn, commitTime: event.tx.commitTime, published: 0, tables: {} };
    open.push(tx);
    return { tx, isNew: true };
  };

  const send = async (topicMessages: { topic: string; messages: OutgoingMessage[] }[], changes: number) => {
    try {
      await deps.producer.sendBatch({ topicMessages, acks: -1 });
    } catch (error) {
      const failure = toKafkaError(error, `publishing ${changes} changes`, deps.brokers);
      if (/larger than the max message size/.test(failure.message)) {
        failure.message += `: one change is larger than the topic's max.message.bytes; raise it on ${deps.topics.changes} (and the broker's message.max.bytes)`;
      }
      throw failure;
    }
  };

  return {
    wantsTransactionEnds: true,
    async write(events: ChangeEvent[], ends: readonly TransactionEnd[] = []) {
      const changes: OutgoingMessage[] = [];
      const markers: OutgoingMessage[] = [];
      let dropped = 0;
      for (const event of events) {
        const { tx } = openFor(event);
        const audited = applyAuditRules(event, deps.rules);
        if (!audited) {
          dropped++;
          continue;
        }
        if (tx.published === 0) markers.push(encodeTransactionMarker({ type: 'BEGIN', xid: tx.xid, lsn: tx.lsn, commitTime: tx.commitTime }));
        tx.published++;
        const table = event.table === '' ? '' : `${event.schema}.${event.table}`;
        tx.tables[table] = (tx.tables[table] ?? 0) + 1;
        changes.push(deps.codec ? await deps.codec.encode(audited) : encodeChangeMessage(audited));
      }
      for (let i = 0; i < ends.length; i++) {
        const tx = open.shift();
        if (!tx) throw new WalauditError('INTERNAL', `the reader reported ${ends.length} transaction ends, the sink saw fewer transactions`);
        if (tx.published > 0) {
          markers.push(
            encodeTransactionMarker({ type: 'END', xid: tx.xid, lsn: tx.lsn, commitTime: tx.commitTime, events: tx.published, tables: tx.tables }),
          );
        }
      }
      // The markers after every change of the batch: an END goes in the request that carries the
      // transaction's last changes, or in a later one, never before them.
      const items: TopicMessage[] = [
        ...changes.map((message) => ({ topic: deps.topics.changes, message })),
        ...markers.map((message) => ({ topic: deps.topics.transactions, message })),
      ];
      for (const chunk of chunkBySize(items)) {
        const byTopic = new Map<string, OutgoingMessage[]>();
        for (const { topic, message } of chunk) {
          const list = byTopic.get(topic);
          if (list) list.push(message);
          else byTopic.set(topic, [message]);
        }
        await send([...byTopic].map(([topic, messages]) => ({ topic, messages })), byTopic.get(deps.topics.changes)?.length ?? 0);
      }
      deps.onPublished?.(changes.length, dropped);
    },
  };
}
