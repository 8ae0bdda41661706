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
  /**
   * Set when Postgres invalidated the slot (it removed WAL the slot still needed): changes since
   * then were never decoded and cannot be. Only `walaudit setup --recreate-lost-slot` continues.
   */
  slotLost?: SlotLoss | null;
  /**
   * Set while the slot holds more WAL than max_slot_wal_keep_size allows (wal_status
   * `unreserved`): Postgres invalidates it at a checkpoint unless walaudit catches up first.
   */
  slotAtRisk?: SlotRisk | null;
  /**
   * Partitions the publication publishes that were created or attached after `walaudit setup`: no
   * FULL identity, no context trigger until setup runs again. Absent when not checked yet.
   */
  unpreparedPartitions?: string[];
  eventsTotal: number;
  entriesStored: number;
  eventsPerSecond: number;
  startedAt: string;
  lastError: { code: string; message: string; at: string } | null;
  /** The alerter, when alerts are enabled. */
  alerts?: AlertsStatus;
  /** Distributed mode only: this process's part of the Kafka pipeline. */
  kafka?: KafkaServiceStatus;
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

export interface KafkaServiceStatus {
  /** The services this process runs. */
  services: ('reader' | 'writer')[];
  brokers: string[];
  topic: string;
  group: string;
  /** Reader: events published to the changes topic (acknowledged). */
  published: number;
  /** Writer: partitions of the changes topic this process owns now. */
  partitions: number[];
  /** Writer: messages not yet stored, summed over its partitions (as of each partition's last batch). */
  consumerLag: number | null;
  /** Writer: messages sent to the dead-letter topic. */
  deadLetters: number;
}

/** Why a slot is lost, in the server's words (pg_replication_slots). */
export interface SlotLoss {
  /** `wal_status`: `lost` once its WAL is gone. */
  walStatus: string | null;
  /** Postgres 17+: `invalidation_reason` (`wal_removed`, `rows_removed`, `idle_timeout`, ...). */
  invalidationReason: string | null;
}

/** A slot about to be lost: Postgres may remove the WAL it still needs at the next checkpoint. */
export interface SlotRisk {
  /** `wal_status`: `unreserved`. */
  walStatus: string;
  /** `safe_wal_size`: WAL that may still be written before the slot is lost (negative: already past). */
  safeWalBytes: number | null;
  /** What it means and what to do, for people. */
  message: string;
}
