import { expect, it } from 'vitest';
import { WalauditError } from '@walaudit/core';
import { describeWithRdkafka, importWithRdkafka } from '../../../test/support/rdkafka-binding.js';

// rdkafka-errors.ts reads its codes from the binding as it loads.
const errors = await importWithRdkafka(() => import('./rdkafka-errors.js'));

const librdkafkaError = (code: number, message: string) => Object.assign(new Error(message), { code, errno: code, origin: 'kafka' });
const brokers = ['k1:9092', 'k2:9092'];

describeWithRdkafka('toRdkafkaError', () => {
  const { rdkafkaCodes, toRdkafkaError } = errors!;

  it('a lost broker is retriable and names the brokers', () => {
    const error = toRdkafkaError(librdkafkaError(rdkafkaCodes.ERR__MSG_TIMED_OUT, 'Local: Message timed out'), 'publishing 3 messages to t.changes', brokers);
    expect(error).toMatchObject({ code: 'KAFKA_UNREACHABLE', retriable: true });
    expect(error.message).toBe('publishing 3 messages to t.changes: Kafka (k1:9092,k2:9092): Local: Message timed out');
  });

  it.each([
    [rdkafkaCodes.ERR_SASL_AUTHENTICATION_FAILED, /kafka\.saslUsername/],
    [rdkafkaCodes.ERR__AUTHENTICATION, /kafka\.saslMechanism/],
    [rdkafkaCodes.ERR_TOPIC_AUTHORIZATION_FAILED, /ACLs \(Write, IdempotentWrite\)/],
    [rdkafkaCodes.ERR_CLUSTER_AUTHORIZATION_FAILED, /ACLs/],
    [rdkafkaCodes.ERR__SSL, /kafka\.sslCaFile/],
    [rdkafkaCodes.ERR_MSG_SIZE_TOO_LARGE, /max\.message\.bytes/],
  ])('code %i is not retriable and says what to change', (code, advice) => {
    const error = toRdkafkaError(librdkafkaError(code, 'from librdkafka'), 'publishing', brokers);
    expect(error).toMatchObject({ code: 'KAFKA_FAILED', retriable: false });
    expect(error.message).toMatch(advice);
  });

  it('a missing topic is retriable: the reader creates it again on reconnect', () => {
    const error = toRdkafkaError(librdkafkaError(rdkafkaCodes.ERR__UNKNOWN_TOPIC, 'Local: Unknown topic'), 'publishing', brokers);
    expect(error).toMatchObject({ code: 'KAFKA_UNREACHABLE', retriable: true });
    expect(error.message).toMatch(/does not exist/);
  });

  it('leaves a WalauditError as it is', () => {
    const original = new WalauditError('INTERNAL', 'x');
    expect(toRdkafkaError(original, 'publishing', brokers)).toBe(original);
  });
});
