import { describe, expect, it } from 'vitest';
import type { Producer, ProducerBatch } from 'kafkajs';
import { AUDIT_EVERYTHING, eventId, type ChangeEvent } from '@walaudit/core';
import { createKafkaChangeSink } from './kafka-change-sink.js';
import { topicNames } from './kafka-client.js';

/** Records what would be sent; the real broker path is in test/integration/kafka-*.test.ts. */
function recordingProducer() {
  const sent: ProducerBatch[] = [];
  const producer = { sendBatch: async (batch: ProducerBatch) => void sent.push(batch) } as unknown as Producer;
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

const topics = topicNames('t');
const markersOf = (sent: ProducerBatch[]) =>
  sent.flatMap((batch) => batch.topicMessages!.filter((tm) => tm.topic === topics.transactions).flatMap((tm) => tm.messages.map((m) => JSON.parse(String(m.value)))));

describe('KafkaChangeSink', () => {
  it('sends BEGIN with the first event and END, with counts per table, in the write that ends the transaction', async () => {
    const { producer, sent } = recordingProducer();
    const sink = createKafkaChangeSink({
      producer,
      topics,
      brokers: ['b:9092'],
      rules: { rules: [{ ...AUDIT_EVERYTHING, tables: ['skipped'], audit: false }, AUDIT_EVERYTHING], defaultRetentionDays: 7 },
    });
    // Transaction A spans two writes; B is whole in the second; C has only unaudited changes.
    await sink.write([event(0x100n, 1, 0), event(0x100n, 1, 1, 'lines')]);
    expect(markersOf(sent).map((m) => m.type)).toEqual(['BEGIN']);
    await sink.write([event(0x100n, 1, 2, 'lines'), event(0x200n, 2, 0), event(0x300n, 3, 0, 'skipped')], [{ events: 3 }, { events: 1 }, { events: 1 }]);
    const markers = markersOf(sent);
    expect(markers.map((m) => `${m.type}:${m.xid}`)).toEqual(['BEGIN:1', 'BEGIN:2', 'END:1', 'END:2']);
    expect(markers[2]).toMatchObject({ events: 3, tables: { 'public.orders': 1, 'public.lines': 2 } });
    expect(markers[3]).toMatchObject({ events: 1, tables: { 'public.orders': 1 } });
    const changes = sent.flatMap((batch) => batch.topicMessages!.filter((tm) => tm.topic === topics.changes).flatMap((tm) => tm.messages));
    expect(changes).toHaveLength(4);
    expect(changes.map((m) => m.key)).toEqual(['1', '1', '1', '2']);
    expect(JSON.parse(String(changes[3]!.value))).toMatchObject({ retentionDays: 7, critical: false });
  });

  it('splits a large batch into produce requests of bounded size, the markers with the last', async () => {
    const { producer, sent } = recordingProducer();
    const sink = createKafkaChangeSink({ producer, topics, brokers: ['b:9092'], rules: { rules: [], defaultRetentionDays: 0 } });
    const big = 'x'.repeat(10_000);
    await sink.write(Array.from({ length: 400 }, (_, seq) => event(0x100n, 1, seq, 'orders', big)), [{ events: 400 }]);
    expect(sent.length).toBeGreaterThan(3);
    for (const batch of sent) {
      const bytes = batch.topicMessages!.flatMap((tm) => tm.messages).reduce((sum, m) => sum + Buffer.byteLength(String(m.value)), 0);
      expect(bytes).toBeLessThanOrEqual(900 * 1024);
    }
    expect(sent.slice(0, -1).every((batch) => batch.topicMessages!.length === 1)).toBe(true);
    expect(markersOf(sent.slice(-1)).map((m) => m.type)).toEqual(['BEGIN', 'END']);
  });

  it('bounds requests by their markers too: 20,000 one-row transactions in one write', async () => {
    const { producer, sent } = recordingProducer();
    const sink = createKafkaChangeSink({ producer, topics, brokers: ['b:9092'], rules: { rules: [], defaultRetentionDays: 0 } });
    const count = 20_000;
    await sink.write(
      Array.from({ length: count }, (_, i) => event(0x100n + BigInt(i) * 0x100n, 1000 + i, 0)),
      Array.from({ length: count }, () => ({ events: 1 })),
    );
    for (const batch of sent) {
      const bytes = batch.topicMessages!.flatMap((tm) => tm.messages).reduce((sum, m) => sum + Buffer.byteLength(String(m.value)) + 150, 0);
      expect(bytes).toBeLessThanOrEqual(1024 * 1024);
    }
    const markers = markersOf(sent);
    expect(markers).toHaveLength(2 * count);
    // Every END is in the request of its change or a later one.
    const requestOfChange = new Map<string, number>();
    const requestOfEnd = new Map<string, number>();
    sent.forEach((batch, index) => {
      for (const tm of batch.topicMessages!) {
        for (const m of tm.messages) {
          if (tm.topic === topics.changes) requestOfChange.set(String(m.key), index);
          else if (JSON.parse(String(m.value)).type === 'END') requestOfEnd.set(String(m.key), index);
        }
      }
    });
    for (const [xid, index] of requestOfEnd) expect(index).toBeGreaterThanOrEqual(requestOfChange.get(xid)!);
  });
});
