import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { describeError, WalauditError, type AuditedEvent, type WalauditConfig } from '@walaudit/core';
import { fromAvroRecord, loadChangeEventSchema, toAvroRecord } from './avro-change-event.js';
import { changeMessage, type OutgoingMessage } from './change-message.js';
import { MalformedChangeMessage, parseChangeMessage, validateChangeMessage } from './change-message.schema.js';

export const AVRO_CONTENT_TYPE = 'application/vnd.walaudit.change-event.v1+avro';

/** How change messages are written and read: JSON (default) or Avro through a schema registry. */
export interface ChangeCodec {
  encode(audited: AuditedEvent): OutgoingMessage | Promise<OutgoingMessage>;
  /** Throws MalformedChangeMessage for a message no walaudit reader wrote. */
  decode(value: Buffer | null): AuditedEvent | Promise<AuditedEvent>;
}

/**
 * The codec `kafka.format` names: undefined for JSON (the sink and the consumer's default), the
 * Avro codec (which registers its schema first) for `avro`.
 */
export async function changeCodecFor(kafka: WalauditConfig['kafka'], changesTopic: string): Promise<ChangeCodec | undefined> {
  // The config schema refuses avro without a registry URL.
  return kafka.format === 'avro' ? createAvroCodec(kafka.schemaRegistryUrl!, changesTopic) : undefined;
}

/**
 * Avro with the Confluent wire format (magic byte 0, 4-byte schema id, Avro binary) through a
 * Confluent-compatible schema registry; the schema (schemas/avro/change-event.avsc) is registered
 * under `<topic>-value` (TopicNameStrategy) on first use. Decoding also accepts JSON messages, so
 * a topic switched from JSON to Avro stays readable.
 */
export async function createAvroCodec(registryUrl: string, topic: string): Promise<ChangeCodec> {
  const registry = new SchemaRegistry({ host: registryUrl });
  let id: number;
  try {
    ({ id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(loadChangeEventSchema()) }, { subject: `${topic}-value` }));
  } catch (error) {
    throw registryError(error, registryUrl, `registering the change-event schema under ${topic}-value`);
  }
  return {
    async encode(audited) {
      return changeMessage(audited, await registry.encode(id, toAvroRecord(audited)), AVRO_CONTENT_TYPE);
    },
    async decode(value) {
      if (value === null || value.length === 0 || value[0] !== 0) return parseChangeMessage(value);
      let record: unknown;
      try {
        record = await registry.decode(value);
      } catch (error) {
        if (isRegistryUnreachable(error)) throw registryError(error, registryUrl, 'reading a schema');
        throw new MalformedChangeMessage(`Avro value that cannot be decoded: ${describeError(error)}`);
      }
      return validateChangeMessage(fromAvroRecord(record as Parameters<typeof fromAvroRecord>[0]));
    },
  };
}

/**
 * Whether a registry failure may pass by itself (retried) or is an answer (a 404 for an unknown
 * schema id: the message is a dead letter, not a reason to stop the partition). The client's
 * ResponseError carries the HTTP status; a network failure has none, or its message says so.
 */
export function isRegistryUnreachable(error: unknown): boolean {
  const { code, status } = (error ?? {}) as { code?: unknown; status?: unknown };
  if (/ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|socket hang up|fetch failed/i.test(`${String(code ?? '')} ${describeError(error)}`)) return true;
  return typeof status === 'number' && (status >= 500 || status === 408 || status === 429);
}

function registryError(error: unknown, url: string, doing: string): WalauditError {
  const retriable = isRegistryUnreachable(error);
  return new WalauditError(retriable ? 'KAFKA_UNREACHABLE' : 'KAFKA_FAILED', `${doing}: schema registry ${url}: ${describeError(error)}`, { cause: error, retriable });
}
