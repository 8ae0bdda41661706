import { describeError, formatLsn, isWalauditError, type PipelineStatus, type WalauditConfig } from '@walaudit/core';
import { connectionLabel, type SlotMonitor } from '@walaudit/pg';
import type { PipelineMetrics } from '@walaudit/api';
import { EventRate } from '../../event-rate.js';
import { topicNames } from '@walaudit/kafka';

type SlotState = Awaited<ReturnType<SlotMonitor['state']>>;

/**
 * What `/status` and `walaudit status` report for a distributed process, fed by its reader and/or
 * writer. One object, so `--services all` reports both halves in one status.
 */
export class ServiceState {
  private state: PipelineStatus['state'] = 'starting';
  private lastError: PipelineStatus['lastError'] = null;
  private readonly startedAt = new Date().toISOString();
  private readonly rate = new EventRate();
  private eventsTotal = 0;
  private slot: SlotState | null = null;
  entriesStored = 0;
  published = 0;
  deadLetters = 0;
  partitions: number[] = [];
  readonly lag = new Map<number, number>();
  /** Set by the reader: the slot it reads. */
  monitor: SlotMonitor | null = null;

  constructor(
    private readonly config: WalauditConfig,
    private readonly services: ('reader' | 'writer')[],
    private readonly metrics: PipelineMetrics,
    private readonly sourceLabel: string,
    private readonly storeLabel: string,
  ) {}

  running(): void {
    this.state = 'running';
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

  /** Reader: events handed to Kafka (decoded and written). */
  decoded(events: number): void {
    this.eventsTotal += events;
    this.rate.add(events);
    this.metrics.eventsDecoded.inc(events);
  }

  /** Writer: entries stored (in a writer-only process the rate is the store's). */
  stored(entries: number): void {
    this.entriesStored += entries;
    if (!this.services.includes('reader')) this.rate.add(entries);
  }

  recordError(error: unknown): void {
    const code = isWalauditError(error) ? error.code : 'INTERNAL';
    this.lastError = { code, message: describeError(error), at: new Date().toISOString() };
    this.metrics.errors.inc({ code });
  }

  async checkSlot(): Promise<void> {
    if (!this.monitor) return;
    try {
      this.slot = await this.monitor.state();
      this.metrics.lagBytes.set(this.slot.lagBytes);
      this.metrics.retainedBytes.set(this.slot.retainedBytes);
    } catch (error) {
      this.recordError(error);
    }
  }

  async status(): Promise<PipelineStatus> {
    if (this.monitor && !this.slot) await this.checkSlot();
    const slot = this.slot;
    const lagValues = [...this.lag.values()];
    return {
      state: this.state,
      source: this.sourceLabel,
      store: this.storeLabel,
      slot: this.config.source.slot,
      slotExists: slot?.exists ?? false,
      slotActive: slot?.active ?? false,
      confirmedLsn: slot?.confirmedLsn != null ? formatLsn(slot.confirmedLsn) : null,
      serverLsn: slot ? formatLsn(slot.serverLsn) : null,
      lagBytes: slot?.lagBytes ?? null,
      retainedBytes: slot?.retainedBytes ?? null,
      eventsTotal: this.eventsTotal,
      entriesStored: this.entriesStored,
      eventsPerSecond: this.rate.perSecond(),
      startedAt: this.startedAt,
      lastError: this.lastError,
      kafka: {
        services: this.services,
        brokers: this.config.kafka.brokers,
        topic: topicNames(this.config.kafka.topicPrefix).changes,
        group: this.config.kafka.groupId,
        published: this.published,
        partitions: this.partitions,
        consumerLag: lagValues.length === 0 ? null : lagValues.reduce((sum, lag) => sum + lag, 0),
        deadLetters: this.deadLetters,
      },
    };
  }
}

export const sourceLabelOf = (url: string | undefined) => (url ? connectionLabel(url) : '(none: writer only)');
