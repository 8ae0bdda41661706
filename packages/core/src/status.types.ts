/** What `walaudit status` and `GET /status` report. LSNs in Postgres spelling. */
export interface PipelineStatus {
  state: 'starting' | 'running' | 'retrying' | 'stopped' | 'failed';
  source: string;
  store: string;
  slot: string;
  slotExists: boolean;
  slotActive: boolean;
  confirmedLsn: string | null;
  serverLsn: string | null;
  lagBytes: number | null;
  retainedBytes: number | null;
  eventsTotal: number;
  entriesStored: number;
  eventsPerSecond: number;
  startedAt: string;
  lastError: { code: string; message: string; at: string } | null;
  /** The alerter, when alerts are enabled. */
  alerts?: AlertsStatus;
}

/** Where the alert windows live and whether that store answers (Redis down: counting locally). */
export interface AlertsStatus {
  windowStore: 'memory' | 'redis';
  windowStoreHealthy: boolean;
  /** Notification channels configured: webhook, pagerduty, email, syslog. */
  channels: string[];
  /** Alerts raised since start. */
  raised: number;
  /** What the restart's window rebuild found (see the alerter's window-rebuild.ts). */
  rebuilt: { deletionsReplayed: number; alertsRestored: number; missedAlerts: number } | null;
}
