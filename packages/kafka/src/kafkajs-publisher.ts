import type { Kafka, Producer } from 'kafkajs';
import { Partitioners } from './kafkajs.js';
import type { OutgoingMessage } from './change-message.js';
import { createKafkaClient, type KafkaLog, type KafkaSettings } from './kafka-client.js';
import { toKafkaError } from './kafka-errors.js';
import type { IdempotentProducer } from './message-publisher.js';

/**
 * Bytes of records per produce request. kafkajs puts each partition's share of a request in one
 * record batch, and a broker refuses a batch over the topic's max.message.bytes (1 MiB by default):
 * a big transaction has one key, so one partition gets the whole request: the bound is per
 * request, with room for the batch header.
 */
const MAX_REQUEST_BYTES = 900 * 1024;
/** Per record beyond key, value and headers: lengths, offsets and timestamps as varints, at most. */
const RECORD_OVERHEAD_BYTES = 40;

function recordBytes(message: OutgoingMessage): number {
  let bytes = Buffer.byteLength(message.key) + Buffer.byteLength(message.value) + RECORD_OVERHEAD_BYTES;
  for (const name in message.headers) bytes += name.length + Buffer.byteLength(String(message.headers[name])) + 10;
  return bytes;
}

function chunkBySize(messages: readonly OutgoingMessage[]): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = recordBytes(message);
    if (current.length > 0 && bytes + size > MAX_REQUEST_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * kafkajs's idempotent producer as walaudit uses it (the reader's fallback, the writers' dead
 * letters): acks from all in-sync replicas, sequence numbers, one request in flight, keys through
 * murmur2 (DefaultPartitioner), and retries without end, as kafkajs requires for idempotence.
 */
export function createIdempotentKafkajsProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 10_000 },
  });
}

/**
 * The reader's producer where librdkafka's binding is not installed: createIdempotentKafkajsProducer
 * (its retries without end mean a broker outage holds the reader, and the slot, until it is back).
 * Same keys, partitions, values and headers; about half the throughput, as its per-record encoding
 * is JavaScript.
 */
export async function connectKafkajsProducer(settings: KafkaSettings, log?: KafkaLog): Promise<IdempotentProducer> {
  const producer = createIdempotentKafkajsProducer(createKafkaClient(settings, log));
  try {
    await producer.connect();
  } catch (error) {
    throw toKafkaError(error, 'connecting the producer', settings.brokers);
  }
  return {
    async publish(topic, messages) {
      for (const chunk of chunkBySize(messages)) {
        try {
          await producer.send({ topic, messages: chunk, acks: -1 });
        } catch (error) {
          const failure = toKafkaError(error, `publishing ${chunk.length} messages to ${topic}`, settings.brokers);
          if (/larger than the max message size/.test(failure.message)) {
            failure.message += `: one message is larger than the topic's max.message.bytes; raise it on ${topic} (and the broker's message.max.bytes)`;
          }
          throw failure;
        }
      }
    },
    async close() {
      await producer.disconnect();
    },
  };
}
