import type { Alert } from './alert.types.js';

/** Why a notification is sent: a new alert, more rows counted on an open one, or its acknowledgement. */
export type AlertEvent = 'raised' | 'updated' | 'acknowledged';

/**
 * One delivery channel. send() throws a WalauditError NOTIFY_FAILED; `retriable: false` (a 4xx, an
 * SMTP 5xx rejection) ends the retries for that notification at once.
 */
export interface Notifier {
  readonly channel: string;
  send(alert: Alert, event: AlertEvent, signal: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}
