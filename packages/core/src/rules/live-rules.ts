import type { RuleContext } from '../audit-rule.js';
import type { ChangeEvent } from '../change-event.types.js';
import type { AuditRule } from '../config.schema.js';
import type { RuleChange, RuleChangeAction, TableOverride } from './rule-change.types.js';
import { applyRuleChange, currentOverrides, mergeOverrides } from './rule-overrides.js';

/** The `walaudit.action` name a run-time rule change is recorded under: `rules.exclude`, `rules.retention-set`... */
export function ruleChangeActionName(action: RuleChangeAction): string {
  return `rules.${action}`;
}

/**
 * The rules a running pipeline applies, changed without a restart. A change takes effect where it
 * was recorded in the WAL: the API registers it here (`expect`), records its `walaudit.action`
 * in the audited database, and the pipeline applies it when that action passes through the rules
 * (`observe`), so every transaction committed before the change keeps the old rules and every one
 * after it gets the new ones, however far behind the pipeline is. Only changes registered here (or
 * already in the stored history) are taken: anyone may write a `walaudit.action` message into the
 * WAL, and such a message must not switch auditing off.
 *
 * Each change swaps `rules` for a new array, which also starts findRule's per-list cache afresh.
 */
export interface LiveRulesOptions {
  /**
   * Where a change this process was not told about is looked up (a distributed reader, whose
   * changes are made through a writer's API): the stored change, or null when there is none (the
   * action was not made through the API, or its change was not saved).
   */
  lookup?: (id: string) => Promise<RuleChange | null>;
  /** A rules action that changes nothing: no such change was made through the API. */
  onIgnored?: (id: string, event: ChangeEvent) => void;
}

export class LiveRules implements RuleContext {
  private overrides: Map<string, TableOverride>;
  private merged: readonly AuditRule[];
  private readonly expected = new Map<string, RuleChange>();
  /** Ids of the changes in effect or applied since: their actions stay in the trail whatever the rules. */
  private readonly known: Set<string>;

  constructor(
    private readonly config: readonly AuditRule[],
    readonly defaultRetentionDays: number,
    readonly hashKey: string | undefined,
    history: readonly RuleChange[] = [],
    private readonly options: LiveRulesOptions = {},
  ) {
    this.overrides = currentOverrides(history);
    this.merged = mergeOverrides(config, this.overrides);
    this.known = new Set(history.map((change) => change.id));
  }

  get rules(): readonly AuditRule[] {
    return this.merged;
  }

  get configRules(): readonly AuditRule[] {
    return this.config;
  }

  /** The overrides in effect in the pipeline now (changes still in flight are not). */
  get current(): ReadonlyMap<string, TableOverride> {
    return this.overrides;
  }

  /** A change this process is about to record: applied once its action passes (see observe). */
  expect(change: RuleChange): void {
    this.expected.set(change.id, change);
  }

  /** The change could not be recorded: its action will never pass. */
  forget(id: string): void {
    this.expected.delete(id);
  }

  /** Whether a change was registered and its action has not passed yet. */
  pending(id: string): boolean {
    return this.expected.has(id);
  }

  /**
   * Before a batch: each rules action of a change neither registered nor known is looked up in
   * the store; a stored change is registered, so observe applies it at its place in the stream.
   */
  async prepare(events: readonly ChangeEvent[]): Promise<void> {
    for (const event of events) {
      const id = changeIdOf(event);
      if (id === null || this.expected.has(id) || this.known.has(id)) continue;
      const change = this.options.lookup ? await this.options.lookup(id) : null;
      // The stored change decides what is applied; the message only says where.
      if (change && change.table === `${event.schema}.${event.table}` && ruleChangeActionName(change.action) === event.action?.name) this.expect(change);
      else this.options.onIgnored?.(id, event);
    }
  }

  /**
   * Called for every event before the rules decide on it. True for the action of a known rule
   * change (kept whatever the rules: excluding a table must not drop the record of doing so).
   */
  observe(event: ChangeEvent): boolean {
    const id = changeIdOf(event);
    if (id === null) return false;
    const change = this.expected.get(id);
    if (change) {
      this.expected.delete(id);
      this.apply(change);
      return true;
    }
    return this.known.has(id);
  }

  private apply(change: RuleChange): void {
    this.known.add(change.id);
    this.overrides = applyRuleChange(this.overrides, change);
    this.merged = mergeOverrides(this.config, this.overrides);
  }
}

/** The change id of a run-time rule change's action; null for any other event. */
function changeIdOf(event: ChangeEvent): string | null {
  if (event.op !== 'action' || !event.action?.name.startsWith('rules.')) return null;
  const id = event.action.change;
  return typeof id === 'string' ? id : null;
}
