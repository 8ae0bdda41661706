export { Partitioners } from './kafkajs.js';
export * from './kafka-client.js';
export * from './kafka-errors.js';
export * from './topics.js';
export * from './change-message.js';
export * from './change-message.schema.js';
export * from './transaction-marker.js';
export * from './dead-letter.js';
export * from './avro-change-event.js';
export * from './avro-codec.js';
export * from './schema-registry.js';
// Not the librdkafka modules themselves: the binding is an optional dependency, loaded when the
// reader connects (reader-publisher.ts), so that standalone mode runs where it did not build.
export * from './message-publisher.js';
export * from './reader-publisher.js';
export { createIdempotentKafkajsProducer } from './kafkajs-publisher.js';
export * from './kafka-change-sink.js';
export * from './change-consumer.js';
export * from './alerts-topic.js';
