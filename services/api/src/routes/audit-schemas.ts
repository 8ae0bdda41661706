import { CHANGE_OPS } from '@walaudit/core';
import { z } from 'zod';

/*
 * The response schemas of the audit trail's routes (they feed /api/openapi.json and shape what is
 * sent). Free-form parts (the application's context, an action's details) are loose objects: a
 * strict schema would silently drop what the application chose to record.
 */

const rowImage = z.record(z.string(), z.string().nullable()).describe('Column to its Postgres text form, null for SQL NULL');

const columnDef = z.object({ name: z.string(), type: z.string(), typeOid: z.number() });

const actor = z
  .object({
    app: z.looseObject({ user: z.string().optional(), ip: z.string().optional(), reason: z.string().optional() }).optional().describe('What the application sent with withAuditContext'),
    db: z
      .object({ user: z.string(), ip: z.string().nullable(), applicationName: z.string(), statement: z.string(), backendPid: z.number().optional() })
      .optional()
      .describe('The database session, from the context triggers'),
  })
  .describe('Who made the change');

export const auditEntrySchema = z.object({
  id: z.string().describe('<commit LSN as 16 hex digits>-<seq>, stable'),
  op: z.enum(CHANGE_OPS),
  schema: z.string(),
  table: z.string(),
  keyKind: z.enum(['primary-key', 'full-row']),
  pk: rowImage.nullable(),
  columns: z.array(columnDef),
  before: rowImage.nullable(),
  after: rowImage.nullable(),
  changed: z.array(z.string()).describe('For updates: the columns whose value changed'),
  tx: z.object({ xid: z.number(), lsn: z.string(), commitTime: z.string(), seq: z.number() }),
  actor,
  action: z.looseObject({ name: z.string() }).optional(),
  schemaChange: z.object({ oldColumns: z.array(columnDef).nullable(), newColumns: z.array(columnDef) }).optional(),
  prevHash: z.string(),
  hash: z.string(),
  retentionDays: z.number(),
  critical: z.boolean(),
  partition: z.number().optional(),
});

export const entryPageSchema = z.object({
  entries: z.array(auditEntrySchema).describe('Newest first'),
  nextCursor: z.string().optional().describe('Pass as cursor for the next page; absent on the last page'),
  total: z.number().optional().describe('Entries matching the filter on every page (count=1)'),
});

const columnChange = z.object({ column: z.string(), before: z.string().nullable(), after: z.string().nullable() });

export const cascadeLink = z.object({
  entryId: z.string(),
  kind: z.enum(['cascade', 'set-null']),
  schema: z.string(),
  table: z.string(),
  key: rowImage.nullable(),
  xid: z.number(),
  lsn: z.string(),
  seq: z.number(),
  constraint: z.string(),
  parentEntryId: z.string(),
  parentSchema: z.string(),
  parentTable: z.string(),
  parentKey: rowImage,
  rootEntryId: z.string(),
  rootSchema: z.string(),
  rootTable: z.string(),
  depth: z.number(),
});

export const entryDetailSchema = z.object({
  entry: auditEntrySchema,
  changes: z.array(columnChange).describe('For an update: the columns it changed, old and new'),
  cascadeParent: cascadeLink.nullable().describe('The deletion that caused this entry (ON DELETE CASCADE / SET NULL)'),
  cascadeChildren: z.array(cascadeLink).describe("The first entries this one's deletion caused directly"),
  cascadeChildCount: z.number(),
  chain: z.object({
    partition: z.number(),
    chain: z.number().describe('Retention days of the chain (0: kept forever)'),
    hashOk: z.boolean(),
    link: z.enum(['linked', 'start', 'broken']),
    previousId: z.string().optional(),
  }),
});

export const recordHistorySchema = z.object({
  versions: z
    .array(
      z.object({
        kind: z.enum(['created', 'updated', 'deleted', 'restored', 'reverted', 'truncated']),
        entry: auditEntrySchema,
        row: rowImage.nullable().describe('The row after this entry; null once deleted'),
        changes: z.array(columnChange),
        restore: z.object({ requestedBy: z.string().optional(), reason: z.string().optional(), job: z.string().optional() }).optional(),
      }),
    )
    .describe('Oldest first'),
  nextCursor: z.string().optional(),
});

export const transactionSummarySchema = z.object({
  xid: z.number(),
  lsn: z.string(),
  commitTime: z.string(),
  actor,
  entryCount: z.number(),
  tables: z.array(z.string()),
  counts: z.array(z.object({ table: z.string(), op: z.enum(CHANGE_OPS), entries: z.number() })),
  entries: z.array(auditEntrySchema).describe('In log order, the first `limit`'),
  truncated: z.boolean(),
});

export const statsSchema = z.object({
  from: z.string(),
  to: z.string(),
  bucket: z.string(),
  groupBy: z.string(),
  points: z.array(z.object({ bucket: z.string().describe('Start of the bucket, UTC'), group: z.string(), entries: z.number() })),
});

export const topDeletersSchema = z.object({
  from: z.string(),
  to: z.string(),
  actors: z.array(z.object({ actor: z.string(), deletes: z.number(), truncates: z.number() })),
});

export const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
