import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { describeError, WalauditError, type AuditedEvent } from '@walaudit/core';
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

function isRegistryUnreachable(error: unknown): boolean {
  return /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|socket|fetch failed|5\d\d/i.test(`${(error as { code?: string }).code ?? ''} ${describeError(error)}`);
}

function registryError(error: unknown, url: string, doing: string): WalauditError {
  const retriable = isRegistryUnreachable(error);
  return new WalauditError(retriable ? 'KAFKA_UNREACHABLE' : 'KAFKA_FAILED', `${doing}: schema registry ${url}: ${describeError(error)}`, { cause: error, retriable });
}
