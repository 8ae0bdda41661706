import type { AlertsConfig } from '@walaudit/core';
import { type Notifier } from '@walaudit/core';
import { emailNotifier } from './email-notifier.js';
import { pagerdutyNotifier } from './pagerduty-notifier.js';
import { syslogNotifier } from './syslog-notifier.js';
import { webhookNotifier } from './webhook-notifier.js';

/** The channels the configuration turns on; each is optional. */
export function notifiersFromConfig(alerts: AlertsConfig): Notifier[] {
  const notifiers: Notifier[] = [];
  if (alerts.webhookUrl) notifiers.push(webhookNotifier(alerts.webhookUrl));
  if (alerts.pagerdutyRoutingKey) notifiers.push(pagerdutyNotifier(alerts.pagerdutyUrl, alerts.pagerdutyRoutingKey));
  if (alerts.emailSmtpUrl && alerts.emailTo.length > 0) {
    notifiers.push(emailNotifier({ smtpUrl: alerts.emailSmtpUrl, from: alerts.emailFrom, to: alerts.emailTo, timeoutMs: alerts.notifyTimeoutMs }));
  }
  if (alerts.syslogHost) notifiers.push(syslogNotifier({ host: alerts.syslogHost, port: alerts.syslogPort, protocol: alerts.syslogProtocol }));
  return notifiers;
}
