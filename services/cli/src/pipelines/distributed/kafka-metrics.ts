import { Counter, Gauge, type Registry } from 'prom-client';

/** Distributed mode's metrics, beside the pipeline's in the same registry (/metrics). */
export function createKafkaMetrics(registry: Registry) {
  return {
    published: new Counter({ name: 'walaudit_kafka_published_total', help: 'Change events the reader published to Kafka (acknowledged by all in-sync replicas)', registers: [registry] }),
    consumerLag: new Gauge({ name: 'walaudit_kafka_consumer_lag', help: 'Messages of the changes topic not yet stored, per partition this writer owns', labelNames: ['partition'] as const, registers: [registry] }),
    deadLetters: new Counter({ name: 'walaudit_kafka_dead_letters_total', help: 'Messages the writer could not read and sent to the dead-letter topic', registers: [registry] }),
    partitions: new Gauge({ name: 'walaudit_kafka_partitions_owned', help: 'Partitions of the changes topic this writer owns', registers: [registry] }),
  };
}

export type KafkaMetrics = ReturnType<typeof createKafkaMetrics>;
