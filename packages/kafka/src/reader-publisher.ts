import { describeError } from '@walaudit/core';
import type { KafkaLog, KafkaSettings } from './kafka-client.js';
import { connectKafkajsProducer } from './kafkajs-publisher.js';
import type { IdempotentProducer } from './message-publisher.js';
import type { ProducerOptions } from './rdkafka-producer.js';

type RdkafkaProducerModule = typeof import('./rdkafka-producer.js');

/**
 * librdkafka's binding (@confluentinc/kafka-javascript) is an optional dependency: npm ci builds it
 * from source where its prebuilt binary cannot be downloaded, and that build needs system
 * libraries and CKJS_LINKING=dynamic (README). Where it failed, npm ci still succeeds, standalone
 * mode never loads it, and the reader falls back to kafkajs.
 */
export async function loadRdkafkaProducer(): Promise<RdkafkaProducerModule | Error> {
  try {
    return await import('./rdkafka-producer.js');
  } catch (error) {
    return error instanceof Error ? error : new Error(describeError(error));
  }
}

/**
 * The distributed reader's idempotent producer: librdkafka when its binding is installed (about
 * half the reader's CPU per event of kafkajs), else kafkajs, with a warning that says how to get
 * the faster one.
 */
export async function connectIdempotentProducer(
  settings: KafkaSettings,
  log?: KafkaLog,
  options: ProducerOptions = {},
  load: () => Promise<RdkafkaProducerModule | Error> = loadRdkafkaProducer,
): Promise<IdempotentProducer> {
  const rdkafka = await load();
  if (!(rdkafka instanceof Error)) return rdkafka.connectIdempotentProducer(settings, log, options);
  log?.warn(
    `librdkafka's binding (@confluentinc/kafka-javascript) is not installed (${rdkafka.message.split('\n')[0]}): publishing through kafkajs, at about half the reader's throughput. ` +
      'To build it: apt-get install g++ make python3 pkg-config libssl-dev libsasl2-dev zlib1g-dev libzstd-dev liblz4-dev, then CKJS_LINKING=dynamic npm ci',
  );
  return connectKafkajsProducer(settings, log);
}
