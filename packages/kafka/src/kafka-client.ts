import { readFileSync } from 'node:fs';
import type { Kafka as KafkaClient, KafkaConfig, SASLOptions } from 'kafkajs';
import { Kafka, logLevel } from './kafkajs.js';
import { WalauditError, type WalauditConfig } from '@walaudit/core';

export type KafkaSettings = WalauditConfig['kafka'];

/** What the adapters log; the CLI passes its own logger. */
export interface KafkaLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface TopicNames {
  /** One message per audited row change, keyed by transaction id. */
  changes: string;
  /** BEGIN and END markers of each transaction, keyed by transaction id. */
  transactions: string;
  /** Messages a writer could not read, with the reason in a header. */
  deadLetter: string;
}

export function topicNames(prefix: string): TopicNames {
  return { changes: `${prefix}.changes`, transactions: `${prefix}.transactions`, deadLetter: `${prefix}.dead-letter` };
}

/**
 * kafkajs warnings that say nothing a DBA can act on. The alerts topic's idempotent producer
 * (distributed-observers.ts) gives up after the client's retries and its channel sends the alert
 * again, with the same alert id (a duplicate a consumer drops by id, never a loss); kafkajs warns
 * about the bounded retries at every writer start, which read as if a guarantee were at risk.
 */
const QUIET = new Set(['Limiting retries for the idempotent producer may invalidate EoS guarantees']);

/**
 * A kafkajs client from the `kafka` config section. kafkajs logs every retry at ERROR; only its
 * warnings and errors reach our log, each prefixed with the client's own name for it.
 */
export function createKafkaClient(settings: KafkaSettings, log?: KafkaLog): KafkaClient {
  const config: KafkaConfig = {
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl: settings.ssl ? sslOptions(settings) : false,
    sasl: saslOptions(settings),
    // A broker restart takes seconds; the default (5 retries, about 10 s) gives up too early for
    // admin and consumer calls. The idempotent producer retries without limit on its own.
    retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 12 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      if (!log || QUIET.has(entry.log.message)) return;
      const text = `kafkajs ${entry.namespace}: ${entry.log.message}${entry.log.error ? ` (${String(entry.log.error)})` : ''}`;
      if (entry.level === logLevel.ERROR) log.warn(text);
      else if (entry.level === logLevel.WARN) log.warn(text);
    },
  };
  return new Kafka(config);
}

function sslOptions(settings: KafkaSettings): KafkaConfig['ssl'] {
  if (!settings.sslCaFile) return true;
  try {
    return { ca: [readFileSync(settings.sslCaFile, 'utf8')] };
  } catch (error) {
    throw new WalauditError('CONFIG_INVALID', `kafka.sslCaFile ${settings.sslCaFile} cannot be read: ${(error as Error).message}`);
  }
}

function saslOptions(settings: KafkaSettings): SASLOptions | undefined {
  if (!settings.saslMechanism) return undefined;
  const username = settings.saslUsername ?? '';
  const password = settings.saslPassword ?? '';
  switch (settings.saslMechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}
