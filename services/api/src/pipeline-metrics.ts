import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** The Prometheus metrics of a running pipeline, on their own registry (no global state). */
export function createPipelineMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'walaudit_process_' });
  return {
    registry,
    eventsDecoded: new Counter({ name: 'walaudit_events_decoded_total', help: 'Change events decoded from the WAL and handed to the store', registers: [registry] }),
    entriesStored: new Counter({ name: 'walaudit_entries_stored_total', help: 'Audit entries durably stored', registers: [registry] }),
    eventsSkipped: new Counter({ name: 'walaudit_events_skipped_total', help: 'Events not stored: filtered by rules or already stored (replay)', registers: [registry] }),
    transactions: new Counter({ name: 'walaudit_transactions_total', help: 'Committed transactions decoded', registers: [registry] }),
    storeRetries: new Counter({ name: 'walaudit_store_retries_total', help: 'Store writes retried after a retriable error', registers: [registry] }),
    errors: new Counter({ name: 'walaudit_errors_total', help: 'Errors by code', labelNames: ['code'] as const, registers: [registry] }),
    lagBytes: new Gauge({ name: 'walaudit_replication_lag_bytes', help: "Bytes between the server's current WAL and the slot's confirmed position", registers: [registry] }),
    retainedBytes: new Gauge({ name: 'walaudit_slot_retained_wal_bytes', help: 'WAL bytes the slot keeps on the server', registers: [registry] }),
    confirmedLsn: new Gauge({ name: 'walaudit_confirmed_lsn', help: 'Confirmed slot position as a number (bytes)', registers: [registry] }),
    slotLost: new Gauge({ name: 'walaudit_slot_lost', help: '1 when Postgres invalidated the replication slot (changes since are unaudited; walaudit setup --recreate-lost-slot)', registers: [registry] }),
    slotUnreserved: new Gauge({ name: 'walaudit_slot_unreserved', help: '1 while the slot holds more WAL than max_slot_wal_keep_size allows (wal_status unreserved): Postgres invalidates it at a checkpoint unless walaudit catches up', registers: [registry] }),
    partitionsNeedingSetup: new Gauge({ name: 'walaudit_partitions_needing_setup', help: 'Partitions the publication publishes that were added after walaudit setup (no FULL identity or context trigger): run walaudit setup', registers: [registry] }),
    up: new Gauge({ name: 'walaudit_up', help: '1 while the pipeline streams, 0 while it retries or stopped', registers: [registry] }),
  };
}

export type PipelineMetrics = ReturnType<typeof createPipelineMetrics>;
