import { ALERT_KINDS, type AlertKind, type PipelineStatus } from '@walaudit/core';

/** Open (unacknowledged) alerts: each kind named, 0 when none, and their sum. */
export interface OpenAlertCounts {
  total: number;
  byKind: Record<AlertKind, number>;
}

/** What the console shows at a glance; sent as the `counters` event whenever one of them changes. */
export interface LiveCounters {
  /** null where alerts are disabled. */
  openAlerts: OpenAlertCounts | null;
  /** Entries this process stored since it started (as `walaudit status`). */
  entriesStored: number;
  pipeline: {
    state: PipelineStatus['state'];
    slotActive: boolean;
    /** Bytes of WAL between the server and the slot's confirmed position; null before the first check. */
    lagBytes: number | null;
    /** Postgres invalidated the slot: changes since are unaudited. */
    slotLost: boolean;
  };
}

/** The store's per-kind counts (a kind with none absent) as counts that name every kind. */
export function openAlertCounts(counts: Partial<Record<AlertKind, number>>): OpenAlertCounts {
  const byKind = Object.fromEntries(ALERT_KINDS.map((kind) => [kind, counts[kind] ?? 0])) as Record<AlertKind, number>;
  return { total: ALERT_KINDS.reduce((sum, kind) => sum + byKind[kind], 0), byKind };
}

export interface CountersSourceDeps {
  status: () => Promise<PipelineStatus>;
  /** The store's open alerts by kind; unset where alerts are disabled. */
  openCounts?: () => Promise<Partial<Record<AlertKind, number>>>;
  /**
   * Alert counts are read again after an alert event of this process at once, and otherwise at
   * least this often: alerts raised or acknowledged by another process sharing the store (another
   * writer, an offline `walaudit alerts ack`) have no event here.
   */
  alertCountsMaxAgeMs: number;
  now?: () => number;
}

/**
 * The counters, read cheaply enough to be read every second: the status is in memory; the alert
 * counts are one aggregate query, asked only when they may have changed.
 */
export function createCountersSource(deps: CountersSourceDeps) {
  const now = deps.now ?? Date.now;
  let alerts: OpenAlertCounts | null = null;
  let alertsReadAt = 0;
  let alertsStale = true;
  return {
    /** An alert was raised or acknowledged here: the next read asks the store. */
    alertsChanged(): void {
      alertsStale = true;
    },
    async read(): Promise<LiveCounters> {
      if (deps.openCounts && (alertsStale || now() - alertsReadAt >= deps.alertCountsMaxAgeMs)) {
        alertsStale = false;
        alertsReadAt = now();
        try {
          alerts = openAlertCounts(await deps.openCounts());
        } catch (error) {
          alertsStale = true;
          throw error;
        }
      }
      const status = await deps.status();
      return {
        openAlerts: alerts,
        entriesStored: status.entriesStored,
        pipeline: { state: status.state, slotActive: status.slotActive, lagBytes: status.lagBytes, slotLost: Boolean(status.slotLost) },
      };
    },
  };
}

export type CountersSource = ReturnType<typeof createCountersSource>;
