import type { AuditedEvent } from './audit-rule.js';
import type { TransactionEnd } from './change-source.types.js';

/**
 * Where events go once the audit rules were applied to them (withAuditRules): the distributed
 * reader's Kafka sink, which so never holds a dropped table's rows or an unmasked value.
 */
export interface AuditedSink {
  /**
   * `events`: what the rules kept, in log order. `ends`: the transactions committed since the
   * previous write that the rules kept events of, oldest first (`events`: how many they kept),
   * each of whose kept events is in this write or an earlier one. May hold only ends. Resolves
   * once the events are durable.
   */
  write(events: readonly AuditedEvent[], ends: readonly TransactionEnd[]): Promise<void>;
}
