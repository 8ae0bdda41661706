import { z } from 'zod';

/**
 * The `alerts` section of the configuration (see config.schema.ts): when to raise alerts and where
 * to send them. Flat keys, so each has an environment name (`WALAUDIT_ALERTS_WEBHOOK_URL`); only the
 * per-table overrides (a list) come from the file alone. docs/configuration.md documents each.
 */

const HH_MM = '([01]\\d|2[0-3]):[0-5]\\d';

export const alertTableOverrideSchema = z
  .object({
    /** Table patterns, as in rules: `schema.table`, `table` (schema public), `*` wildcards. */
    tables: z.array(z.string().min(1)).min(1),
    /** Rows one actor may delete from these tables within the window; 0: no bulk alerts for them. */
    threshold: z.number().int().min(0).optional(),
    /** Length of their sliding window, in minutes. */
    windowMinutes: z.number().int().min(1).max(10_080).optional(),
    /** Alert on every transaction that deletes from them (as a rule's `critical: true`). */
    critical: z.boolean().optional(),
  })
  .strict();

export const alertsConfigSchema = z
  .object({
    /** `false` turns the alerter off: nothing is counted, stored or sent. */
    enabled: z.boolean().default(true),
    /** One actor deleting more than this many rows within the window raises a bulk-delete alert; 0 disables them. */
    threshold: z.number().int().min(0).default(50),
    /** Length of the sliding window, in minutes. */
    windowMinutes: z.number().int().min(1).max(10_080).default(10),
    /** What counts as a deletion: `delete`, and `truncate` (counted as "all rows", alerts at once). */
    operations: z.array(z.enum(['delete', 'truncate'])).min(1).default(['delete']),
    /** Actors (app user or db user, `*` wildcards) whose deletions never alert, e.g. a nightly cleanup job's role. */
    excludeActors: z.array(z.string().min(1)).default([]),
    /** `HH:MM-HH:MM` (UTC): alerts raised then are stored and listed but not sent. Empty: off. */
    quietHours: z.string().regex(new RegExp(`^(${HH_MM}-${HH_MM})?$`), 'expected HH:MM-HH:MM (UTC), e.g. 22:00-06:00, or empty').default(''),
    /**
     * What one bulk-deletion window counts: `actor` (the app user, from withAuditContext or a
     * statement tag, see actor.appUserFromTags; else the database user), or `trace` (each W3C
     * trace, from the statements' `traceparent` tag, on its own: one request's deletions add up,
     * two requests' do not; deletions without a trace count per actor).
     */
    countBy: z.enum(['actor', 'trace']).default('actor'),
    /** Per-table thresholds, windows and critical marks; the first matching entry wins. */
    tables: z.array(alertTableOverrideSchema).default([]),
    /** Where the sliding windows live: `memory` (one process) or `redis` (shared by several alerters). */
    windowStore: z.enum(['memory', 'redis']).default('memory'),
    /** Redis URL of the shared windows (`redis://host:6379`), with `windowStore: redis`. */
    redisUrl: z.string().optional(),
    /** Generic JSON webhook (Slack-compatible `text` field). */
    webhookUrl: z.string().url().optional(),
    /** PagerDuty Events API v2 endpoint. */
    pagerdutyUrl: z.string().url().default('https://events.pagerduty.com/v2/enqueue'),
    /** PagerDuty integration (routing) key; setting it turns the PagerDuty notifier on. */
    pagerdutyRoutingKey: z.string().optional(),
    /** SMTP server for e-mail alerts: `smtp://user:pass@host:587` or `smtps://...`. */
    emailSmtpUrl: z.string().optional(),
    /** Sender address of alert e-mails. */
    emailFrom: z.string().default('walaudit@localhost'),
    /** Recipients of alert e-mails; setting them (with emailSmtpUrl) turns the e-mail notifier on. */
    emailTo: z.array(z.string().min(3)).default([]),
    /** Syslog server (RFC 5424); setting it turns the syslog notifier on. */
    syslogHost: z.string().optional(),
    syslogPort: z.number().int().min(1).max(65535).default(514),
    syslogProtocol: z.enum(['udp', 'tcp']).default('udp'),
    /** Longest wait for one delivery attempt, in ms. */
    notifyTimeoutMs: z.number().int().min(1).default(5_000),
    /** Delivery attempts per alert and channel before it is counted as failed. */
    notifyAttempts: z.number().int().min(1).max(100).default(6),
    /** First and longest wait between delivery attempts, in ms (doubling). */
    notifyRetryInitialMs: z.number().int().min(1).default(500),
    notifyRetryMaxMs: z.number().int().min(1).default(30_000),
  })
  .strict()
  .superRefine((alerts, ctx) => {
    if (alerts.windowStore === 'redis' && !alerts.redisUrl) {
      ctx.addIssue({ code: 'custom', path: ['redisUrl'], message: 'windowStore is "redis": set alerts.redisUrl or WALAUDIT_ALERTS_REDIS_URL' });
    }
    if (alerts.emailTo.length > 0 && !alerts.emailSmtpUrl) {
      ctx.addIssue({ code: 'custom', path: ['emailSmtpUrl'], message: 'alerts.emailTo is set: set alerts.emailSmtpUrl too' });
    }
    if (alerts.emailSmtpUrl && !/^smtps?:\/\//.test(alerts.emailSmtpUrl)) {
      ctx.addIssue({ code: 'custom', path: ['emailSmtpUrl'], message: 'expected smtp://host:port or smtps://host:port' });
    }
    if (alerts.notifyRetryInitialMs > alerts.notifyRetryMaxMs) {
      ctx.addIssue({ code: 'custom', path: ['notifyRetryInitialMs'], message: 'must not exceed alerts.notifyRetryMaxMs' });
    }
  })
  .prefault({});

export type AlertsConfig = z.output<typeof alertsConfigSchema>;
