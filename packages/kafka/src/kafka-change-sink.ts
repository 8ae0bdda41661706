import { WalauditError, type AuditedEvent, type AuditedSink, type TransactionEnd } from '@walaudit/core';
import type { ChangeEncoder } from './avro-codec.js';
import { encodeChangeMessage, type OutgoingMessage } from './change-message.js';
import type { TopicNames } from './kafka-client.js';
import type { MessagePublisher } from './message-publisher.js';
import { encodeTransactionMarker } from './transaction-marker.js';

export interface KafkaChangeSinkDeps {
  /** An idempotent producer (acks from all in-sync replicas), connected. */
  producer: MessagePublisher;
  topics: TopicNames;
  /** Avro through a schema registry; JSON when absent. */
  encoder?: ChangeEncoder;
  /** Called after each acknowledged batch: events published. */
  onPublished?: (published: number) => void;
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
 * The reader's sink in distributed mode, behind the audit rules (withAuditRules: dropped tables and
 * masked values never reach Kafka): publishes each audited event to `<prefix>.changes`, plus BEGIN
 * and END markers to `<prefix>.transactions`. write() resolves once Kafka acknowledged every
 * message of the batch (acks=all, idempotent producer): only then may the reader confirm the slot.
 *
 * A reader restart replays from the slot: the same events, with the same ids, are published
 * again. Writers drop them by position; a SIEM consumer dedups by `id` (or the event-id header).
 */
export function createKafkaChangeSink(deps: KafkaChangeSinkDeps): AuditedSink {
  const open: OpenTransaction[] = [];

  const openFor = ({ event }: AuditedEvent): OpenTransaction => {
    const last = open.at(-1);
    if (last && last.lsn === event.tx.lsn && last.xid === event.tx.xid) return last;
    const tx: OpenTransaction = { xid: event.tx.xid, lsn: event.tx.lsn, commitTime: event.tx.commitTime, published: 0, tables: {} };
    open.push(tx);
    return tx;
  };

  return {
    async write(events: readonly AuditedEvent[], ends: readonly TransactionEnd[]) {
      const changes: OutgoingMessage[] = [];
      const markers: OutgoingMessage[] = [];
      for (const audited of events) {
        const tx = openFor(audited);
        if (tx.published === 0) markers.push(encodeTransactionMarker({ type: 'BEGIN', xid: tx.xid, lsn: tx.lsn, commitTime: tx.commitTime }));
        tx.published++;
        const { event } = audited;
        const table = event.table === '' ? '' : `${event.schema}.${event.table}`;
        tx.tables[table] = (tx.tables[table] ?? 0) + 1;
        changes.push(deps.encoder ? await deps.encoder.encode(audited) : encodeChangeMessage(audited));
      }
      for (let i = 0; i < ends.length; i++) {
        const tx = open.shift();
        if (!tx) throw new WalauditError('INTERNAL', `the reader reported ${ends.length} transaction ends, the Kafka sink saw fewer transactions`);
        markers.push(encodeTransactionMarker({ type: 'END', xid: tx.xid, lsn: tx.lsn, commitTime: tx.commitTime, events: tx.published, tables: tx.tables }));
      }
      // The markers once the changes are acknowledged: a consumer that has seen an END can count on
      // every change it announces being on the topic (schemas/kafka-messages.md). Topics are not
      // ordered with each other, so sending both at once would not promise that.
      await deps.producer.publish(deps.topics.changes, changes);
      await deps.producer.publish(deps.topics.transactions, markers);
      deps.onPublished?.(changes.length);
    },
  };
}
