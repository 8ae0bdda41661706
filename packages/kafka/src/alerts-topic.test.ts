import { describe, expect, it } from 'vitest';
import type { Alert } from '@walaudit/core';
import { alertMessage, alertsTopicName, kafkaAlertsNotifier } from './alerts-topic.js';

const alert = { id: 'c4b8c17ad34b', kind: 'bulk-delete', version: 2, status: 'open' } as unknown as Alert;

describe('<prefix>.alerts messages', () => {
  it('are keyed by alert id, carry the webhook body and name their schema and event in headers', () => {
    expect(alertsTopicName('walaudit')).toBe('walaudit.alerts');
    const message = alertMessage(alert, 'updated', '(update) [walaudit] bulk delete');
    expect(message.key).toBe('c4b8c17ad34b');
    expect(JSON.parse(String(message.value))).toEqual({ text: '(update) [walaudit] bulk delete', event: 'updated', alert });
    expect(message.headers).toEqual({ 'content-type': 'application/json', 'walaudit-schema': 'alert', 'walaudit-schema-version': '1', 'walaudit-alert-event': 'updated' });
  });

  it('turn a failed or timed-out send into a retriable NOTIFY_FAILED', async () => {
    const never = new Promise<never>(() => {});
    const notifier = kafkaAlertsNotifier({
      producer: { connect: async () => {}, send: () => never, disconnect: async () => {} } as never,
      admin: { connect: async () => {}, listTopics: async () => ['w.alerts'], disconnect: async () => {} } as never,
      topic: 'w.alerts',
      layout: { partitions: 1, replicationFactor: 1 },
      brokers: ['127.0.0.1:1'],
      textOf: () => 'text',
    });
    await expect(notifier.send(alert, 'raised', AbortSignal.timeout(20))).rejects.toMatchObject({ code: 'NOTIFY_FAILED', retriable: true });
  });
});
