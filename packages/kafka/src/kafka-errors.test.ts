import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { WalauditError } from '@walaudit/core';
import { toKafkaError } from './kafka-errors.js';

const { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } = kafkajs;
const brokers = ['127.0.0.1:9092'];

describe('toKafkaError', () => {
  it('keeps a WalauditError that kafkajs wrapped (an eachBatch failure after its retries), code and message', () => {
    const store = new WalauditError('STORE_UNREACHABLE', 'ClickHouse at http://ch:8123 does not answer', { retriable: true });
    const wrapped = new KafkaJSNumberOfRetriesExceeded(store, { retryCount: 5, retryTime: 300 });
    expect(toKafkaError(wrapped, 'consuming walaudit.changes', brokers)).toBe(store);
    expect(toKafkaError(store, 'consuming walaudit.changes', brokers)).toBe(store);
  });

  it("names a broker's error as Kafka's, with what walaudit was doing", () => {
    const loading = new KafkaJSProtocolError("The coordinator is loading and hence can't process requests for this group");
    const error = toKafkaError(new KafkaJSNumberOfRetriesExceeded(loading, { retryCount: 5, retryTime: 300 }), 'consuming walaudit.changes in group g', brokers);
    expect(error).toBeInstanceOf(WalauditError);
    expect(error.code).toMatch(/^KAFKA_/);
    expect(error.message).toContain('consuming walaudit.changes in group g: Kafka (127.0.0.1:9092)');
  });
});
