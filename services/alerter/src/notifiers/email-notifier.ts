import nodemailer from 'nodemailer';
import { WalauditError, type Alert, type AlertEvent, type Notifier } from '@walaudit/core';
import { notificationText } from './webhook-notifier.js';

export interface EmailOptions {
  smtpUrl: string;
  from: string;
  to: readonly string[];
  timeoutMs: number;
}

/** Alert e-mail over SMTP (nodemailer). A 5xx answer is a rejection and is not retried. */
export function emailNotifier(options: EmailOptions): Notifier {
  // `url` is parsed by the SMTP transport (host, port, auth, smtps:// for implicit TLS).
  const transport = nodemailer.createTransport({
    url: options.smtpUrl,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    channel: 'email',
    async send(alert, event) {
      try {
        await transport.sendMail({ from: options.from, to: [...options.to], subject: notificationText(alert, event).slice(0, 250), text: emailBody(alert, event) });
      } catch (error) {
        const code = (error as { responseCode?: number }).responseCode;
        const rejected = code !== undefined && code >= 500;
        throw new WalauditError('NOTIFY_FAILED', `email: ${rejected ? `the SMTP server rejected the message (${code})` : 'cannot send'}: ${(error as Error).message}`, { retriable: !rejected, cause: error });
      }
    },
    async close() {
      transport.close();
    },
  };
}

function emailBody(alert: Alert, event: AlertEvent): string {
  const lines = [
    notificationText(alert, event),
    '',
    `Alert      ${alert.id} (${alert.kind}, version ${alert.version}, ${alert.status})`,
    `Who        ${alert.actor.name} (app user ${alert.actor.appUser ?? '-'}, db user ${alert.actor.dbUser ?? '-'}, ip ${alert.actor.ip ?? '-'}, application ${alert.actor.applicationName ?? '-'})`,
    `What       ${alert.tables.map((table) => `${table.table}: ${table.allRows ? 'ALL rows (TRUNCATE)' : `${table.rows} rows`}`).join('; ')}`,
    `When       ${alert.firstCommitTime} to ${alert.lastCommitTime}`,
    alert.window ? `Window     ${alert.window.minutes} min from ${alert.window.start}, threshold ${alert.window.threshold} rows` : `Transaction ${alert.xid}`,
    `Entries    ${alert.firstEntryId} .. ${alert.lastEntryId}; transactions ${alert.xids.join(', ')}${alert.transactions > alert.xids.length ? ` and ${alert.transactions - alert.xids.length} more` : ''}`,
  ];
  if (alert.keys.length > 0) lines.push(`Keys       ${alert.keys.map((key) => JSON.stringify(key)).join(' ')}`);
  lines.push('', `See them:  walaudit log --xid ${alert.xids[0] ?? ''}`, `Acknowledge: walaudit alerts ack ${alert.id} --by YOUR_NAME`);
  return lines.join('\n');
}
