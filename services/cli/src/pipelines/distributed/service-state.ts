import type { PipelineStatus, WalauditConfig } from '@walaudit/core';
import { connectionLabel } from '@walaudit/pg';
import type { PipelineMetrics } from '@walaudit/api';
import { topicNames } from '@walaudit/kafka';
import { PipelineState } from '../pipeline-state.js';

/**
 * What `/status` and `walaudit status` report for a distributed process, fed by its reader and/or
 * writer. One object, so `--services all` reports both halves in one status.
 */
export class ServiceState extends PipelineState {
  published = 0;
  deadLetters = 0;
  partitions: number[] = [];
  readonly lag = new Map<number, number>();

  constructor(
    private readonly config: WalauditConfig,
    private readonly services: ('reader' | 'writer')[],
    metrics: PipelineMetrics,
    sourceLabel: string,
    storeLabel: string,
  ) {
    super(metrics, { source: sourceLabel, store: storeLabel, slot: config.source.slot });
  }

  /** Writer: entries stored (in a writer-only process the rate is the store's). */
  override stored(entries: number): void {
    super.stored(entries);
    if (!this.services.includes('reader')) this.rate.add(entries);
  }

  override async status(): Promise<PipelineStatus> {
    const lagValues = [...this.lag.values()];
    return {
      ...(await super.status()),
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
