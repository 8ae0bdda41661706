import { postJson } from './post-json.js';
import { type Notifier } from '@walaudit/core';
import { notificationText } from './webhook-notifier.js';

/**
 * PagerDuty Events API v2. dedup_key is the alert id: updates re-trigger the same incident with the
 * new counts, and an acknowledgement acknowledges it.
 */
export function pagerdutyNotifier(url: string, routingKey: string): Notifier {
  return {
    channel: 'pagerduty',
    send(alert, event, signal) {
      if (event === 'acknowledged') {
        return postJson('pagerduty', url, { routing_key: routingKey, event_action: 'acknowledge', dedup_key: alert.id }, signal);
      }
      return postJson('pagerduty', url, {
        routing_key: routingKey,
        event_action: 'trigger',
        dedup_key: alert.id,
        client: 'walaudit',
        payload: {
          summary: notificationText(alert, event).slice(0, 1024),
          source: alert.actor.ip ?? alert.actor.name,
          severity: alert.kind === 'bulk-delete' ? 'warning' : 'critical',
          timestamp: alert.raisedAt,
          component: alert.tables.map((table) => table.table).join(', '),
          group: alert.actor.name,
          class: alert.kind,
          custom_details: alert,
        },
      }, signal);
    },
  };
}
