import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

export const DEAD_LETTER_HEADERS = {
  reason: 'walaudit-dead-letter-reason',
  topic: 'walaudit-dead-letter-topic',
  partition: 'walaudit-dead-letter-partition',
  offset: 'walaudit-dead-letter-offset',
} as const;

/**
 * The unreadable message as it came (key, value and headers untouched, so nothing is lost), with
 * where it came from and why it was not stored in added headers.
 */
export function deadLetterMessage(message: KafkaMessage, origin: { topic: string; partition: number; reason: string }): Message {
  const headers: IHeaders = { ...(message.headers ?? {}) };
  headers[DEAD_LETTER_HEADERS.reason] = origin.reason.slice(0, 2000);
  headers[DEAD_LETTER_HEADERS.topic] = origin.topic;
  headers[DEAD_LETTER_HEADERS.partition] = String(origin.partition);
  headers[DEAD_LETTER_HEADERS.offset] = message.offset;
  return { key: message.key, value: message.value, headers };
}
