import type { Alert, AlertKind, AlertQuery, ApiRole, ApiTokenStore, AuditQueries, AuditRule, AuditStore, ConflictPolicy, PipelineStatus, RestoreRequest, RuleChange, WalauditConfig } from '@walaudit/core';
import type { Registry } from 'prom-client';

/** What the API needs of the alerter (services/alerter): listing, counting and acknowledging. */
export interface AlertsApi {
  list(query: AlertQuery): Promise<Alert[]>;
  /** Alerts not acknowledged, by kind (a kind with none absent): one aggregate in the store. */
  openCounts(): Promise<Partial<Record<AlertKind, number>>>;
  acknowledge(request: { ids: string[]; by: string; note?: string; role?: string }): Promise<{ acknowledged: Alert[]; alreadyAcknowledged: string[] }>;
}

export type AlertFeedEvent = 'raised' | 'updated' | 'acknowledged';

/**
 * Alerts as this process raises, updates and acknowledges them, once stored: what the live event
 * stream (`GET /api/events`) sends. The CLI hands the alerter's `watch` here; the API does not
 * know the alerter.
 */
export interface AlertFeed {
  /** Calls `listener` with each change; returns the unsubscribe. */
  watch(listener: (alert: Alert, event: AlertFeedEvent) => void): () => void;
}

/** What `POST /api/restores` hands to the restorer the CLI wired. */
export interface RestoreCall {
  request: RestoreRequest;
  policy: ConflictPolicy;
  requestedBy: string;
  dryRun?: boolean;
}

/** The restores of a process that holds the store (services/restorer, wired by the CLI). */
export interface RestoresApi {
  /** A dry run's report: what the restore would write. */
  plan(call: RestoreCall): Promise<unknown>;
  /** Refuses a request that cannot run (no such entry, not a deletion), before it is recorded. */
  check(call: RestoreCall): Promise<void>;
  /** Submits the job; `existing` when the same restore was already submitted. */
  submit(call: RestoreCall): Promise<{ id: string; existing?: boolean }>;
  /** The job's state; null when no job has this id. */
  status(id: string): Promise<unknown>;
}

/** `walaudit log --caused-by`: the entry and what its deletion removed or nulled. */
export interface CascadeApi {
  causedBy(entryId: string): Promise<unknown>;
}

/** Run-time audit rules, in a process that holds the store: config rules, history, changes. */
export interface RulesApi {
  readonly configRules: readonly AuditRule[];
  readonly defaultRetentionDays: number;
  /** Every run-time change, oldest first, from the store. */
  history(): Promise<RuleChange[]>;
  /** Whether a change was recorded and this process's pipeline has not reached its action yet (standalone). */
  pending(id: string): boolean;
  /** `schema.table` of every table with row changes in the log. */
  tablesInLog(): Promise<string[]>;
  /**
   * Makes a change: registers it with this process's pipeline (standalone), records it in the
   * audit trail with `record` (its WAL position is where it takes effect), then saves it (the next
   * start, and a distributed reader, read it from the store).
   */
  change(change: RuleChange, record: () => Promise<void>): Promise<void>;
}

/**
 * An action taken through the API, recorded in the audit trail (a `walaudit.action` message in the
 * audited database's WAL) under the principal's name and role.
 */
export interface ApiAction {
  name: string;
  by: string;
  role: ApiRole;
  [detail: string]: unknown;
}

export interface ApiServerDeps {
  http: WalauditConfig['http'];
  status: () => Promise<PipelineStatus>;
  /** Absent in a process that holds no store (a distributed reader): entries, verify, tokens say so. */
  store?: AuditStore;
  /** Searches, histories, transactions, stats and exports over the same store; absent with it. */
  queries?: AuditQueries;
  registry: Registry;
  /** The alerter, when alerts are enabled. */
  alerts?: AlertsApi;
  /** The alerter's changes, for the live event stream; absent where no alerter runs here. */
  alertFeed?: AlertFeed;
  cascade?: CascadeApi;
  restores?: RestoresApi;
  /** Run-time audit rules; absent without a store (a distributed reader): changes are then refused. */
  rules?: RulesApi;
  /** API tokens; absent without a store (then only the local token works). */
  tokens?: ApiTokenStore;
  /** The token `walaudit start` wrote for this host's read commands, and where (for messages). */
  localToken?: { token: string; file: string };
  /** The PDF report's options; absent: the defaults (no organisation named). */
  report?: WalauditConfig['report'];
  /** Records token changes and restores in the audit trail; without it they are refused. */
  recordAction?: (action: ApiAction) => Promise<void>;
  log?: { info(message: string): void; warn(message: string): void };
  /** The web console's built files, served at `/`; absent: the installed services/console/dist. */
  consoleDir?: string;
}
