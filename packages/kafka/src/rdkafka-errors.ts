import rdkafka from '@confluentinc/kafka-javascript';
import { describeError, WalauditError } from '@walaudit/core';

/** librdkafka's error codes (negative: raised by the client itself; positive: sent by a broker). */
export const rdkafkaCodes = rdkafka.CODES.ERRORS;

const CREDENTIALS = new Set<number>([rdkafkaCodes.ERR__AUTHENTICATION, rdkafkaCodes.ERR_SASL_AUTHENTICATION_FAILED, rdkafkaCodes.ERR_UNSUPPORTED_SASL_MECHANISM]);
const ACCESS = new Set<number>([
  rdkafkaCodes.ERR_TOPIC_AUTHORIZATION_FAILED,
  rdkafkaCodes.ERR_CLUSTER_AUTHORIZATION_FAILED,
  rdkafkaCodes.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
]);
const TOO_LARGE = new Set<number>([rdkafkaCodes.ERR_MSG_SIZE_TOO_LARGE, rdkafkaCodes.ERR_RECORD_LIST_TOO_LARGE]);
/** A request or configuration the broker will refuse again: retrying does not help. */
const PERMANENT = new Set<number>([rdkafkaCodes.ERR__INVALID_ARG, rdkafkaCodes.ERR_INVALID_CONFIG, rdkafkaCodes.ERR__SSL, ...CREDENTIALS, ...ACCESS, ...TOO_LARGE]);

/**
 * librdkafka errors as WalauditErrors. Lost connections, timeouts and leader changes are
 * retriable (the reader reconnects and replays from the slot); credentials, ACLs, TLS and
 * oversized messages are not, and the message says what to change.
 */
export function toRdkafkaError(error: unknown, doing: string, brokers: readonly string[]): WalauditError {
  if (error instanceof WalauditError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const where = `Kafka (${brokers.join(',')})`;
  const text = describeError(error);
  if (typeof code !== 'number') return new WalauditError('KAFKA_UNREACHABLE', `${doing}: ${where}: ${text}`, { cause: error, retriable: true });
  if (CREDENTIALS.has(code)) {
    return new WalauditError('KAFKA_FAILED', `${doing}: ${where} refused the credentials (${text}); check kafka.saslMechanism, kafka.saslUsername and kafka.saslPassword`, { cause: error });
  }
  if (ACCESS.has(code)) return new WalauditError('KAFKA_FAILED', `${doing}: ${where} denies access (${text}); grant the producer's ACLs (Write, IdempotentWrite)`, { cause: error });
  if (code === rdkafkaCodes.ERR__SSL) {
    return new WalauditError('KAFKA_FAILED', `${doing}: ${where}: TLS failed (${text}); check kafka.ssl and kafka.sslCaFile`, { cause: error });
  }
  if (TOO_LARGE.has(code)) {
    return new WalauditError('KAFKA_FAILED', `${doing}: ${where}: ${text}: one change is larger than the topic's max.message.bytes; raise it on the topic (and the broker's message.max.bytes)`, { cause: error });
  }
  if (code === rdkafkaCodes.ERR__UNKNOWN_TOPIC || code === rdkafkaCodes.ERR_UNKNOWN_TOPIC_OR_PART) {
    // Deleted while walaudit runs: the reader creates its topics again when it reconnects.
    return new WalauditError('KAFKA_UNREACHABLE', `${doing}: ${where}: the topic does not exist (${text}); it is created again on reconnect`, { cause: error, retriable: true });
  }
  const retriable = !PERMANENT.has(code);
  return new WalauditError(retriable ? 'KAFKA_UNREACHABLE' : 'KAFKA_FAILED', `${doing}: ${where}: ${text}`, { cause: error, retriable });
}
