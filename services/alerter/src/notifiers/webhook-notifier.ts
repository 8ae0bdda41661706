import { alertSummary, type Alert, type AlertEvent, type Notifier } from '@walaudit/core';
import { postJson } from './post-json.js';

/** The text of a notification: the alert's summary line, prefixed for updates and acknowledgements. */
export function notificationText(alert: Alert, event: AlertEvent): string {
  const summary = alertSummary(alert);
  if (event === 'updated') return `(update) ${summary}`;
  if (event === 'acknowledged') return `(acknowledged by ${alert.acknowledgement?.by ?? '?'}${alert.acknowledgement?.note ? `: ${alert.acknowledgement.note}` : ''}) ${summary}`;
  return summary;
}

/** Generic JSON webhook: `{text, event, alert}`. `text` alone is what a Slack incoming webhook shows. */
export function webhookNotifier(url: string): Notifier {
  return {
    channel: 'webhook',
    send: (alert, event, signal) => postJson('webhook', url, { text: notificationText(alert, event), event, alert }, signal),
  };
}
