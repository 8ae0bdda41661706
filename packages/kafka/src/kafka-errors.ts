import { KafkaJSError } from './kafkajs.js';
import { describeError, WalauditError } from '@walaudit/core';

/**
 * kafkajs errors as WalauditErrors. Connection loss, leader elections and timeouts are retriable
 * (the broker comes back); authentication and authorization failures and unknown topics after
 * creation are not, and are reported with what to check.
 */
export function toKafkaError(error: unknown, doing: string, brokers: readonly string[]): WalauditError {
  // Ours already, even when kafkajs wrapped it (an eachBatch failure becomes the cause of a
  // KafkaJSNumberOfRetriesExceeded): a store failure keeps its code and message.
  for (let current = error; current instanceof Error; current = current.cause) if (current instanceof WalauditError) return current;
  const text = describeError(error);
  const where = `Kafka (${brokers.join(',')})`;
  const kafkaError = error instanceof KafkaJSError ? error : null;
  const type = (error as { type?: string } | null)?.type ?? '';
  if (/SASL|AUTHENTICATION|AUTHORIZATION/i.test(`${type} ${text}`)) {
    return new WalauditError('KAFKA_FAILED', `${doing}: ${where} refused the credentials or the permission (${text}); check kafka.saslMechanism, kafka.saslUsername, kafka.saslPassword and the ACLs`, { cause: error });
  }
  if (type === 'TOPIC_AUTHORIZATION_FAILED' || type === 'GROUP_AUTHORIZATION_FAILED') {
    return new WalauditError('KAFKA_FAILED', `${doing}: ${where} denies access (${type}); grant the ACL`, { cause: error });
  }
  const retriable = kafkaError ? kafkaError.retriable || /Connection|ECONNREFUSED|timeout|retries|leader/i.test(`${kafkaError.name} ${text}`) : true;
  return new WalauditError(retriable ? 'KAFKA_UNREACHABLE' : 'KAFKA_FAILED', `${doing}: ${where}: ${text}`, { cause: error, retriable });
}
