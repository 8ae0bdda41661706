import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import rdkafka from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError, ProducerGlobalConfig } from '@confluentinc/kafka-javascript';
import { WalauditError } from '@walaudit/core';
import type { IdempotentProducer } from './message-publisher.js';
import type { KafkaLog, KafkaSettings } from './kafka-client.js';
import { rdkafkaCodes, toRdkafkaError } from './rdkafka-errors.js';
import { createHeaderLists } from './rdkafka-headers.js';

/** How long a message may wait for its acknowledgement, retries included, before publish() fails. */
const MESSAGE_TIMEOUT_MS = 300_000;
const CONNECT_TIMEOUT_MS = 15_000;
/** A flush() returns at least this often, to notice a fatal error. */
const FLUSH_SLICE_MS = 1_000;
const QUEUE_FULL_WAIT_MS = 5;
/** Under the broker's socket.request.max.bytes (100 MiB by default). */
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

/**
 * The reader's producer: librdkafka (through @confluentinc/kafka-javascript) instead of kafkajs,
 * whose per-record encoding cost the reader about a third of its CPU in a profile of the reader.
 *
 * Idempotent (acks from all in-sync replicas, sequence numbers, at most 5 requests in flight
 * with order kept): librdkafka retries a failed request itself until MESSAGE_TIMEOUT_MS, so a
 * broker restart only delays publish(); past that, publish() rejects and the reader reconnects
 * and replays from the slot. Keys go through murmur2, as kafkajs's DefaultPartitioner and the
 * Java client do: a transaction lands on the partition it always did.
 *
 * Acknowledgement is flush(): it returns once librdkafka has no message left in flight, each
 * acknowledged or failed. Only failures get a delivery report: a report per message (a JS object
 * and a key buffer each) and the library's kafkajs-compatible API (a promise per message) cost
 * measurably more CPU (10 and 14 ms per 1,000 messages in a trial, against 7).
 *
 * produce() costs about 2.8 us for a message without headers plus about 2.2 us per header (the
 * binding converts each one natively), 11-13 us with a change's four: a third of the reader's
 * main thread. It stays on that thread because the two ways off it were worse (trials on
 * 2 cores): in a worker thread the binding crashes the process (it dispatches its callbacks on the
 * main thread's loop, uv_default_loop, and is not context-aware); in a child process fed packed
 * batches over IPC it cost 23% more CPU per event in all, and the reader ran 20% slower.
 */
export interface ProducerOptions {
  connectTimeoutMs?: number;
  /** librdkafka's queue of messages not yet acknowledged (default 100,000). */
  queueMessages?: number;
}

/** Use connectIdempotentProducer (reader-publisher.ts): it loads this module only when it can. */
export async function connectIdempotentProducer(settings: KafkaSettings, log?: KafkaLog, options: ProducerOptions = {}): Promise<IdempotentProducer> {
  const producer = new rdkafka.Producer({
    ...connectionConfig(settings),
    'enable.idempotence': true,
    acks: -1,
    partitioner: 'murmur2_random',
    'message.timeout.ms': MESSAGE_TIMEOUT_MS,
    'linger.ms': 5,
    // A record batch stays within batch.size (1 MB, under a topic's default max.message.bytes);
    // a single larger change goes alone, and the topic's max.message.bytes decides, as with
    // kafkajs. message.max.bytes bounds a request (several partitions' batches) and one message.
    'message.max.bytes': MAX_REQUEST_BYTES,
    dr_cb: true,
    'delivery.report.only.error': true,
    ...(options.queueMessages ? { 'queue.buffering.max.messages': options.queueMessages } : {}),
  });
  let fatal: LibrdKafkaError | null = null;
  /** The first failure reported since the current publish() began. */
  let failure: unknown = null;
  let busy = false;
  producer.on('event.error', (error: LibrdKafkaError) => {
    // librdkafka reports lost connections here and reconnects by itself. A fatal error (the
    // idempotent producer lost its sequence) leaves it unusable: the reader starts over with a
    // new producer.
    log?.warn(`librdkafka: ${error.message}`);
    if (error.code === rdkafkaCodes.ERR__FATAL || error.isFatal) fatal = error;
  });
  producer.on('delivery-report', (error: LibrdKafkaError | null) => {
    failure ??= error;
  });
  await new Promise<void>((resolve, reject) => {
    producer.connect({ timeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS }, (error: LibrdKafkaError | null) => (error ? reject(toRdkafkaError(error, 'connecting the producer', settings.brokers)) : resolve()));
  });
  // Reports come from librdkafka's background thread: nothing to poll from here.
  producer.setPollInBackground(true);
  const headerLists = createHeaderLists();

  /** Until nothing is in flight; a timed-out slice just means the brokers have not answered yet. */
  const flushed = async () => {
    for (;;) {
      if (fatal) return;
      const error = await new Promise<LibrdKafkaError | null>((resolve) => producer.flush(FLUSH_SLICE_MS, (flushError: LibrdKafkaError | null | undefined) => resolve(flushError ?? null)));
      if (!error) break;
      if (error.code !== rdkafkaCodes.ERR__TIMED_OUT) {
        failure ??= error;
        break;
      }
    }
    // Reports dispatched before flush() returned arrive in this turn of the event loop at the latest.
    await nextTurn();
  };

  return {
    async publish(topic, messages) {
      if (messages.length === 0) return;
      if (busy) throw new WalauditError('INTERNAL', 'publish() called while another publish() is in flight');
      if (fatal) throw toRdkafkaError(fatal, `publishing to ${topic}`, settings.brokers);
      busy = true;
      failure = null;
      try {
        let refused: LibrdKafkaError | null = null;
        for (let i = 0; i < messages.length; ) {
          const message = messages[i]!;
          const value = typeof message.value === 'string' ? Buffer.from(message.value) : message.value;
          try {
            producer.produce(topic, null, value, message.key, null, undefined, headerLists(message.headers));
            i++;
          } catch (error) {
            // librdkafka's queue is full (100,000 messages by default): wait for room.
            if ((error as LibrdKafkaError).code === rdkafkaCodes.ERR__QUEUE_FULL) {
              await sleep(QUEUE_FULL_WAIT_MS);
              continue;
            }
            // Refused before it was queued (too large, unknown topic): the messages already
            // queued are waited for below, so none of their reports leaks into the next publish().
            refused = error as LibrdKafkaError;
            break;
          }
        }
        await flushed();
        if (refused?.code === rdkafkaCodes.ERR_MSG_SIZE_TOO_LARGE) {
          throw new WalauditError('KAFKA_FAILED', `publishing to ${topic}: a message is over the producer's limit of ${MAX_REQUEST_BYTES} bytes; audit rules can drop or mask the large columns of its table`, { cause: refused });
        }
        const error = refused ?? failure ?? fatal;
        if (error) throw toRdkafkaError(error, `publishing ${messages.length} messages to ${topic}`, settings.brokers);
      } finally {
        busy = false;
      }
    },
    async close() {
      await new Promise<void>((resolve) => producer.disconnect(5_000, () => resolve()));
    },
  };
}

function connectionConfig(settings: KafkaSettings): ProducerGlobalConfig {
  const config: ProducerGlobalConfig = {
    'bootstrap.servers': settings.brokers.join(','),
    'client.id': settings.clientId,
    'security.protocol': settings.saslMechanism ? (settings.ssl ? 'sasl_ssl' : 'sasl_plaintext') : settings.ssl ? 'ssl' : 'plaintext',
  };
  // Without a CA file librdkafka uses OpenSSL's default CA paths (the system's CAs).
  if (settings.ssl && settings.sslCaFile) config['ssl.ca.location'] = settings.sslCaFile;
  if (settings.saslMechanism) {
    config['sasl.mechanisms'] = settings.saslMechanism.toUpperCase();
    config['sasl.username'] = settings.saslUsername ?? '';
    config['sasl.password'] = settings.saslPassword ?? '';
  }
  return config;
}
