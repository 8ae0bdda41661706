import { describeError, formatLsn, isWalauditError, type PipelineStatus } from '@walaudit/core';
import { unpreparedPartitionsWarning, type SlotMonitor } from '@walaudit/pg';
import type { PipelineMetrics } from '@walaudit/api';
import { EventRate } from '../event-rate.js';

const RISK_WARN_EVERY_MS = 60_000;
const PARTITIONS_CHECK_EVERY_MS = 60_000;

export type SlotState = Awaited<ReturnType<SlotMonitor['state']>>;

export interface PipelineLabels {
  /** The audited database without credentials, or why there is none (a writer only). */
  source: string;
  /** The store bundle's label, or why there is none (a reader only). */
  store: string;
  slot: string;
}

/**
 * What `/status` and `walaudit status` report of a running pipeline, kept beside the gauges that
 * say the same (up, errors, slot lag): the standalone pipeline and the distributed services feed
 * one of these, so both modes report alike. State changes set `walaudit_up` with them.
 */
export class PipelineState {
  private state: PipelineStatus['state'] = 'starting';
  private lastError: PipelineStatus['lastError'] = null;
  private readonly startedAt = new Date().toISOString();
  protected readonly rate = new EventRate();
  private eventsTotal = 0;
  private slot: SlotState | null = null;
  entriesStored = 0;
  /** The slot this process reads, when it reads one; checkSlot and status ask it. */
  monitor: SlotMonitor | null = null;
  /** The publication of that slot: checkSlot also lists its partitions added after setup. */
  publication: string | null = null;
  /** Where the warnings of checkSlot go (a slot about to be lost, partitions needing setup). */
  warn: (line: string) => void = () => {};
  private unprepared: string[] | undefined;
  private partitionsCheckedAt = 0;
  private riskWarnedAt = 0;
  private unpreparedWarned = '';

  constructor(
    protected readonly metrics: PipelineMetrics,
    private readonly labels: PipelineLabels,
    /** Called with each slot state read, for what a mode does beyond the gauges (warnings). */
    private readonly onSlot: (slot: SlotState) => void = () => {},
  ) {}

  running(): void {
    this.state = 'running';
    this.metrics.up.set(1);
  }

  /** A store write succeeded: out of `retrying`, whatever failed before is past. */
  resumed(): void {
    if (this.state === 'retrying') this.state = 'running';
    this.metrics.up.set(1);
  }

  retrying(): void {
    this.state = 'retrying';
    this.metrics.up.set(0);
  }

  failed(): void {
    this.state = 'failed';
    this.metrics.up.set(0);
  }

  stopped(): void {
    this.state = 'stopped';
    this.metrics.up.set(0);
  }

  /** Events decoded from the slot and handed on (to the writer, or to Kafka). */
  decoded(events: number): void {
    this.eventsTotal += events;
    this.rate.add(events);
    this.metrics.eventsDecoded.inc(events);
  }

  /** Entries stored. */
  stored(entries: number): void {
    this.entriesStored += entries;
  }

  recordError(error: unknown): void {
    const code = isWalauditError(error) ? error.code : 'INTERNAL';
    this.lastError = { code, message: describeError(error), at: new Date().toISOString() };
    this.metrics.errors.inc({ code });
  }

  /** Reads the slot's position and lag; a failure is recorded, not thrown (a status must answer). */
  async checkSlot(partitionsNow = false): Promise<void> {
    if (!this.monitor) return;
    try {
      this.slot = await this.monitor.state();
      this.metrics.lagBytes.set(this.slot.lagBytes);
      this.metrics.retainedBytes.set(this.slot.retainedBytes);
      this.metrics.slotLost.set(this.slot.lost ? 1 : 0);
      this.metrics.slotUnreserved.set(this.slot.atRisk ? 1 : 0);
      if (this.slot.atRisk && Date.now() - this.riskWarnedAt >= RISK_WARN_EVERY_MS) {
        this.riskWarnedAt = Date.now();
        this.warn(this.slot.atRisk.message);
      }
      this.onSlot(this.slot);
      await this.checkPartitions(partitionsNow);
    } catch (error) {
      this.recordError(error);
    }
  }

  /**
   * Partitions added after setup: a catalog query, so at most once a minute unless `now` (a session
   * start, which warns before the first change). Advisory: a failed read is recorded, not thrown.
   */
  async checkPartitions(now = false): Promise<void> {
    if (!this.monitor || !this.publication || (!now && Date.now() - this.partitionsCheckedAt < PARTITIONS_CHECK_EVERY_MS)) return;
    this.partitionsCheckedAt = Date.now();
    try {
      this.unprepared = await this.monitor.unpreparedPartitions(this.publication);
    } catch (error) {
      this.recordError(error);
      return;
    }
    this.metrics.partitionsNeedingSetup.set(this.unprepared.length);
    const warning = unpreparedPartitionsWarning(this.unprepared);
    // Said once per new set: at start, and when a partition is added while walaudit runs.
    if (warning && warning !== this.unpreparedWarned) this.warn(warning);
    this.unpreparedWarned = warning ?? '';
  }

  async status(): Promise<PipelineStatus> {
    if (this.monitor && !this.slot) await this.checkSlot();
    const slot = this.slot;
    return {
      state: this.state,
      source: this.labels.source,
      store: this.labels.store,
      slot: this.labels.slot,
      slotExists: slot?.exists ?? false,
      slotActive: slot?.active ?? false,
      confirmedLsn: slot?.confirmedLsn != null ? formatLsn(slot.confirmedLsn) : null,
      serverLsn: slot ? formatLsn(slot.serverLsn) : null,
      lagBytes: slot?.lagBytes ?? null,
      retainedBytes: slot?.retainedBytes ?? null,
      slotLost: slot?.lost ?? null,
      slotAtRisk: slot?.atRisk ?? null,
      ...(this.unprepared ? { unpreparedPartitions: this.unprepared } : {}),
      eventsTotal: this.eventsTotal,
      entriesStored: this.entriesStored,
      eventsPerSecond: this.rate.perSecond(),
      startedAt: this.startedAt,
      lastError: this.lastError,
    };
  }
}
