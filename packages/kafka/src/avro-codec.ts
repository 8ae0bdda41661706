import { describeError, type AuditedEvent, type WalauditConfig } from '@walaudit/core';
import { fromAvroRecord, loadChangeEventSchema, toAvroRecord } from './avro-change-event.js';
import { changeMessage, type OutgoingMessage } from './change-message.js';
import { MalformedChangeMessage, parseChangeMessage, validateChangeMessage } from './change-message.schema.js';
import { checkRegistry, isRegistryUnreachable, registerAvroSchema, registryClient, registryEndpoint, registryError } from './schema-registry.js';

export const AVRO_CONTENT_TYPE = 'application/vnd.walaudit.change-event.v1+avro';

/** How the reader writes change messages: JSON (default) or Avro through a schema registry. */
export interface ChangeEncoder {
  encode(audited: AuditedEvent): OutgoingMessage | Promise<OutgoingMessage>;
}

/** How writers read them. */
export interface ChangeDecoder {
  /** Throws MalformedChangeMessage for a message no walaudit reader wrote. */
  decode(value: Buffer | null): AuditedEvent | Promise<AuditedEvent>;
}

/**
 * The reader's encoder for `kafka.format`: undefined for JSON (the sink's default); for `avro`,
 * schemas/avro/change-event.avsc registered first, so a registry that refuses it stops the start.
 */
export async function changeEncoderFor(kafka: WalauditConfig['kafka'], changesTopic: string): Promise<ChangeEncoder | undefined> {
  // The config schema refuses avro without a registry URL.
  return kafka.format === 'avro' ? createAvroEncoder(kafka.schemaRegistryUrl!, changesTopic) : undefined;
}

/**
 * The writers' decoder for `kafka.format`: undefined for JSON (the consumer's default). Writers
 * never register a schema: they need only read access, and they do not race the reader's
 * registration (a registry may answer two at once with an error).
 */
export async function changeDecoderFor(kafka: WalauditConfig['kafka']): Promise<ChangeDecoder | undefined> {
  return kafka.format === 'avro' ? createAvroDecoder(kafka.schemaRegistryUrl!) : undefined;
}

/**
 * Avro with the Confluent wire format (magic byte 0, 4-byte schema id, Avro binary) through a
 * Confluent-compatible schema registry; the schema (schemas/avro/change-event.avsc) is registered
 * under `<topic>-value` (TopicNameStrategy).
 */
export async function createAvroEncoder(registryUrl: string, topic: string): Promise<ChangeEncoder> {
  const endpoint = registryEndpoint(registryUrl);
  const id = await registerAvroSchema(endpoint, `${topic}-value`, loadChangeEventSchema());
  const registry = registryClient(endpoint);
  return {
    async encode(audited) {
      return changeMessage(audited, await registry.encode(id, toAvroRecord(audited)), AVRO_CONTENT_TYPE);
    },
  };
}

/**
 * Reads the Confluent wire format by the schema id each message names (the registry's answers are
 * cached). Also accepts JSON messages, so a topic switched from JSON to Avro stays readable.
 */
export async function createAvroDecoder(registryUrl: string): Promise<ChangeDecoder> {
  const endpoint = registryEndpoint(registryUrl);
  await checkRegistry(endpoint);
  const registry = registryClient(endpoint);
  return {
    async decode(value) {
      if (value === null || value.length === 0 || value[0] !== 0) return parseChangeMessage(value);
      let record: unknown;
      try {
        record = await registry.decode(value);
      } catch (error) {
        // Only a 404 (no such schema id: checkRegistry vouched for the URL) or a value the schema
        // cannot read is the message's fault; any other answer (401, 403, 5xx) is the registry's,
        // and its messages must wait, not become dead letters.
        const { status } = error as { status?: unknown };
        if (isRegistryUnreachable(error) || (typeof status === 'number' && status !== 404)) throw registryError(error, endpoint.url, 'reading a schema');
        throw new MalformedChangeMessage(`Avro value that cannot be decoded: ${describeError(error)}`);
      }
      return validateChangeMessage(fromAvroRecord(record as Parameters<typeof fromAvroRecord>[0]));
    },
  };
}
