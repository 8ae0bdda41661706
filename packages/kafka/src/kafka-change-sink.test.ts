import { describe, expect, it } from 'vitest';
import { AUDIT_EVERYTHING, eventId, withAuditRules, type AuditedEvent, type ChangeEvent } from '@walaudit/core';
import { createKafkaChangeSink } from './kafka-change-sink.js';
import { topicNames } from './kafka-client.js';
import type { OutgoingMessage } from './change-message.js';
import type { MessagePublisher } from './message-publisher.js';

interface Published {
  topic: string;
  messages: readonly OutgoingMessage[];
}

/** Records what would be sent; the real broker path is in test/integration/kafka-*.test.ts. */
function recordingProducer() {
  const sent: Published[] = [];
  const producer: MessagePublisher = { publish: async (topic, messages) => void sent.push({ topic, messages }) };
  return { producer, sent };
}

function event(lsn: bigint, xid: number, seq: number, table = 'orders', note = 'x'): ChangeEvent {
  return {
    id: eventId(lsn, seq),
    op: 'insert',
    schema: 'public',
    table,
    keyKind: 'primary-key',
    pk: { id: String(seq) },
    columns: [{ name: 'id', type: 'int4', typeOid: 23 }, { name: 'note', type: 'text', typeOid: 25 }],
    before: null,
    after: { id: String(seq), note },
    changed: [],
    tx: { xid, lsn: `0/${lsn.toString(16).toUpperCase()}`, commitTime: '2026-01-01T00:00:00.000000Z', seq },
    actor: {},
  };
}

/** As the audit rules pass on an event no rule reshapes. */
const kept = (event: ChangeEvent): AuditedEvent => ({ event, retentionDays: 0, critical: false });

const topics = topicNames('t');
const markersOf = (sent: Published[]) => sent.filter((p) => p.topic === topics.transactions).flatMap((p) => p.messages.map((m) => JSON.parse(String(m.value))));
const changesOf = (sent: Published[]) => sent.filter((p) => p.topic === topics.changes).flatMap((p) => p.messages);

describe('KafkaChangeSink', () => {
  it('behind the audit rules, sends BEGIN with the first event and END, with counts per table, in the write that ends the transaction', async () => {
    const { producer, sent } = recordingProducer();
    const sink = withAuditRules(createKafkaChangeSink({ producer, topics }), {
      rules: [{ ...AUDIT_EVERYTHING, tables: ['skipped'], audit: false }, AUDIT_EVERYTHING],
      defaultRetentionDays: 7,
    });
    // Transaction A spans two writes; B is whole in the second; C has only unaudited changes.
    await sink.write([event(0x100n, 1, 0), event(0x100n, 1, 1, 'lines')]);
    expect(markersOf(sent).map((m) => m.type)).toEqual(['BEGIN']);
    await sink.write([event(0x100n, 1, 2, 'lines'), event(0x200n, 2, 0), event(0x300n, 3, 0, 'skipped')], [{ events: 3 }, { events: 1 }, { events: 1 }]);
    const markers = markersOf(sent);
    expect(markers.map((m) => `${m.type}:${m.xid}`)).toEqual(['BEGIN:1', 'BEGIN:2', 'END:1', 'END:2']);
    expect(markers[2]).toMatchObject({ events: 3, tables: { 'public.orders': 1, 'public.lines': 2 } });
    expect(markers[3]).toMatchObject({ events: 1, tables: { 'public.orders': 1 } });
    const changes = changesOf(sent);
    expect(changes).toHaveLength(4);
    expect(changes.map((m) => m.key)).toEqual(['1', '1', '1', '2']);
    expect(JSON.parse(String(changes[3]!.value))).toMatchObject({ retentionDays: 7, critical: false });
  });

  it('publishes the markers only once the changes of the write are acknowledged', async () => {
    const calls: string[] = [];
    let acknowledge = () => {};
    const producer: MessagePublisher = {
      publish: async (topic, messages) => {
        calls.push(`${topic} ${messages.length}`);
        if (topic === topics.changes) await new Promise<void>((resolve) => (acknowledge = resolve));
      },
    };
    const sink = createKafkaChangeSink({ producer, topics });
    const written = sink.write([kept(event(0x100n, 1, 0)), kept(event(0x200n, 2, 0))], [{ events: 1 }, { events: 1 }]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([`${topics.changes} 2`]);
    acknowledge();
    await written;
    expect(calls).toEqual([`${topics.changes} 2`, `${topics.transactions} 4`]);
  });

  it('fails the write when the changes are not acknowledged, and sends no END', async () => {
    const { producer, sent } = recordingProducer();
    const failing: MessagePublisher = {
      publish: async (topic, messages) => {
        if (topic === topics.changes) throw new Error('broker gone');
        await producer.publish(topic, messages);
      },
    };
    const sink = createKafkaChangeSink({ producer: failing, topics });
    await expect(sink.write([kept(event(0x100n, 1, 0))], [{ events: 1 }])).rejects.toThrow('broker gone');
    expect(markersOf(sent)).toEqual([]);
  });
});
