import { ALERT_KINDS, API_ROLES } from '@walaudit/core';
import { z } from 'zod';
import { auditEntrySchema, cascadeLink } from './audit-schemas.js';

/*
 * The answers of the routes about the running process, tokens, restores, alerts and cascades
 * (their OpenAPI and their serialization). A plain object sends only the members it names, so each
 * names every member of its core type; what another service assembles and the API only passes on
 * (the restorer's jobs and reports, the alerter's and Kafka's parts of the status) is a loose object
 * or unknown, so a member that service adds later is not silently dropped.
 */

const rowImage = z.record(z.string(), z.string().nullable()).describe('Column to its Postgres text form, null for SQL NULL');

const errorInfo = z.object({ code: z.string(), message: z.string() });

const slotLoss = z.object({ walStatus: z.string().nullable(), invalidationReason: z.string().nullable() });

export const statusSchema = z
  .object({
    state: z.enum(['starting', 'running', 'retrying', 'stopped', 'failed']),
    source: z.string().describe('The audited database, without credentials'),
    store: z.string(),
    slot: z.string(),
    slotExists: z.boolean(),
    slotActive: z.boolean(),
    confirmedLsn: z.string().nullable().describe('What the slot confirmed: every change up to it is stored'),
    serverLsn: z.string().nullable(),
    lagBytes: z.number().nullable(),
    retainedBytes: z.number().nullable().describe('WAL Postgres keeps for the slot'),
    slotLost: slotLoss.nullable().optional().describe('Set when Postgres invalidated the slot: changes since were never audited'),
    eventsTotal: z.number(),
    entriesStored: z.number(),
    eventsPerSecond: z.number(),
    startedAt: z.string(),
    lastError: errorInfo.extend({ at: z.string() }).nullable(),
    alerts: z.unknown().optional().describe('The alerter: window store, channels, alerts raised, what the restart rebuilt'),
    kafka: z.unknown().optional().describe("Distributed mode: this process's part of the Kafka pipeline"),
  })
  .describe('walaudit status');

export const healthSchema = z.object({
  status: z.string().describe('ok, slot-lost, or the pipeline state'),
  lastError: errorInfo.extend({ at: z.string() }).nullable().optional(),
  slotLost: slotLoss.optional(),
});

export const metricsSchema = z.string().describe('Prometheus text exposition format');

export const verifySchema = z.object({
  ok: z.boolean(),
  entriesChecked: z.number(),
  chains: z.array(
    z.object({
      partition: z.number().optional().describe('Kafka partition (distributed mode)'),
      chain: z.number().describe('Retention days of the chain (0: kept forever)'),
      entries: z.number(),
      headHash: z.string().nullable(),
    }),
  ),
  problem: z
    .object({
      kind: z.enum(['altered', 'removed-or-inserted', 'duplicate-id']),
      id: z.string().describe('The entry'),
      index: z.number().describe('Its position in the whole log, from 0'),
      detail: z.string(),
      chain: z.number(),
      partition: z.number().optional(),
    })
    .nullable()
    .describe('The first problem found; null when every chain verifies'),
});

export const cascadeSchema = z.object({
  root: auditEntrySchema.nullable().describe('The entry whose deletion caused the rest'),
  links: z.array(cascadeLink).describe('Everything it removed or nulled, each with its parent'),
});

const tokenInfo = z.object({
  id: z.string().describe('12 hex digits'),
  name: z.string(),
  role: z.enum(API_ROLES as ['viewer', 'manager']),
  createdAt: z.string(),
  createdBy: z.string(),
  revokedAt: z.string().optional(),
  revokedBy: z.string().optional(),
});

export const tokenCreated = tokenInfo.extend({ token: z.string().describe('The bearer token: shown here only, never again') });
export const tokenList = z.object({ tokens: z.array(tokenInfo).describe('Newest first, revoked ones included') });
export const tokenRevoked = z.object({ token: tokenInfo.nullable() });

const restoreReport = z
  .looseObject({
    dryRun: z.boolean(),
    outcome: z.enum(['ok', 'failed']),
    restored: z.number(),
    restoredByTable: z.record(z.string(), z.number()),
    updated: z.number(),
    alreadyPresent: z.number(),
    error: errorInfo.optional(),
    sql: z.array(z.string()).optional().describe('The ordered SQL (dry run only)'),
  })
  .describe('What the restore wrote (or would): rows per table, new keys, skipped rows, conflicts');

const restoreJob = z.looseObject({
  id: z.string(),
  state: z.string().describe('waiting, active, completed, failed'),
  report: restoreReport.nullable().optional(),
  error: z.string().nullable().optional(),
  attempts: z.number().optional(),
  existing: z.boolean().optional().describe('The same restore was submitted before: it runs once'),
});

export const restorePlanned = z.object({ report: restoreReport });
export const restoreSubmitted = z.object({ job: z.looseObject({ id: z.string(), existing: z.boolean().optional() }) });
export const restoreStatus = z.object({ job: restoreJob });

/** The restorer's answers are unknown to the API's types (RestoresApi): these are what it documents. */
export type RestorePlanned = z.infer<typeof restorePlanned>;
export type RestoreStatus = z.infer<typeof restoreStatus>;
export type CascadeAnswer = z.infer<typeof cascadeSchema>;

const alertSchema = z.object({
  id: z.string(),
  kind: z.enum(ALERT_KINDS),
  version: z.number(),
  status: z.enum(['open', 'acknowledged']),
  actor: z.object({ name: z.string(), appUser: z.string().nullable(), dbUser: z.string().nullable(), ip: z.string().nullable(), applicationName: z.string().nullable() }),
  tables: z.array(z.object({ table: z.string(), rows: z.number(), allRows: z.boolean() })),
  rows: z.number(),
  allRows: z.boolean(),
  window: z.object({ minutes: z.number(), threshold: z.number(), start: z.string() }).nullable(),
  xid: z.number().nullable(),
  xids: z.array(z.number()),
  transactions: z.number(),
  firstCommitTime: z.string(),
  lastCommitTime: z.string(),
  firstEntryId: z.string(),
  lastEntryId: z.string(),
  keys: z.array(rowImage),
  raisedAt: z.string(),
  updatedAt: z.string(),
  acknowledgement: z.object({ by: z.string(), at: z.string(), note: z.string() }).nullable(),
  slotLoss: z
    .object({ slot: z.string(), source: z.string(), walStatus: z.string().nullable(), invalidationReason: z.string().nullable(), confirmedLsn: z.string().nullable() })
    .optional()
    .describe('slot-lost alerts: which slot, where, and why'),
});

export const alertList = z.object({ alerts: z.array(alertSchema).describe('Newest raised first') });
export const alertsAcknowledged = z.object({
  acknowledged: z.array(alertSchema),
  alreadyAcknowledged: z.array(z.string()).describe('Ids that were acknowledged before: left as they were'),
});
