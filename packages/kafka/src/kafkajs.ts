// kafkajs is CommonJS and Node's ESM loader finds none of its named exports (`import { Kafka }
// from 'kafkajs'` fails at run time, though TypeScript and vitest accept it): take them from the
// default export, in this one place.
import kafkajs from 'kafkajs';

export const { Kafka, logLevel, Partitioners, KafkaJSError } = kafkajs;
