import { describe, expect, it } from 'vitest';
import { contextFunctionBody, planSetup, type PlannedTable, type SetupPlanInput } from './setup-plan.js';

const orders: PlannedTable = { schema: 'public', table: 'orders', replicaIdentity: 'default', hasContextTrigger: false };
const lines: PlannedTable = { schema: 'sales', table: 'Order Lines', replicaIdentity: 'full', hasContextTrigger: false };

function input(overrides: Partial<SetupPlanInput> = {}): SetupPlanInput {
  return {
    slot: 'walaudit',
    publication: 'walaudit',
    tables: [orders, lines],
    allTables: true,
    existing: { publicationExists: false, slotExists: false, functionExists: false },
    ...overrides,
  };
}

describe('planSetup', () => {
  it('plans everything on a fresh database, slot last and in its own transaction', () => {
    const steps = planSetup(input());
    expect(steps.map((s) => s.kind)).toEqual(['schema', 'function', 'trigger', 'trigger', 'replica-identity', 'publication', 'slot']);
    expect(steps[0]!.sql).toBe('CREATE SCHEMA IF NOT EXISTS walaudit');
    expect(steps.at(-1)).toMatchObject({
      sql: "SELECT pg_create_logical_replication_slot('walaudit', 'pgoutput')",
      ownTransaction: true,
    });
    expect(steps.filter((s) => s.ownTransaction)).toHaveLength(1);
    expect(steps.find((s) => s.kind === 'publication')).toMatchObject({
      sql: 'CREATE PUBLICATION "walaudit" FOR ALL TABLES WITH (publish_via_partition_root = true)',
      done: 'created publication walaudit FOR ALL TABLES with publish_via_partition_root',
    });
  });

  it('quotes identifiers and only sets FULL where it is missing', () => {
    const steps = planSetup(input());
    expect(steps.filter((s) => s.kind === 'replica-identity')).toEqual([
      expect.objectContaining({ sql: 'ALTER TABLE "public"."orders" REPLICA IDENTITY FULL', done: 'set REPLICA IDENTITY FULL on public.orders' }),
    ]);
    expect(steps.filter((s) => s.kind === 'trigger')[1]!.sql).toBe(
      'CREATE TRIGGER walaudit_context BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON "sales"."Order Lines" ' +
        'FOR EACH STATEMENT EXECUTE FUNCTION walaudit.emit_statement_context()',
    );
  });

  it('lists the tables when not publishing all of them', () => {
    const publication = planSetup(input({ allTables: false, publication: 'audit' })).find((s) => s.kind === 'publication');
    expect(publication?.sql).toBe('CREATE PUBLICATION "audit" FOR TABLE "public"."orders", "sales"."Order Lines" WITH (publish_via_partition_root = true)');
    expect(publication?.done).toBe('created publication audit FOR TABLE public.orders, sales."Order Lines" with publish_via_partition_root');
  });

  it('plans nothing when everything is in place', () => {
    const ready = (t: PlannedTable): PlannedTable => ({ ...t, replicaIdentity: 'full', hasContextTrigger: true, inPublication: true });
    const steps = planSetup(input({
      tables: [ready(orders), ready(lines)],
      existing: { publicationExists: true, slotExists: true, functionExists: true, functionUpToDate: true },
    }));
    expect(steps).toEqual([]);
  });

  it('adds only the tables an existing publication lacks', () => {
    const steps = planSetup(input({
      allTables: false,
      tables: [{ ...orders, inPublication: true }, lines],
      existing: { publicationExists: true, slotExists: true, functionExists: true },
    }));
    expect(steps.map((s) => s.kind)).toEqual(['trigger', 'trigger', 'replica-identity', 'publication-add']);
    expect(steps.at(-1)!.sql).toBe('ALTER PUBLICATION "walaudit" ADD TABLE "sales"."Order Lines"');
  });

  it('replaces an outdated context function without recreating the schema', () => {
    const steps = planSetup(input({
      tables: [],
      existing: { publicationExists: true, slotExists: true, functionExists: true, functionUpToDate: false },
    }));
    expect(steps).toEqual([expect.objectContaining({ kind: 'function', done: 'updated function walaudit.emit_statement_context()' })]);
    expect(steps[0]!.sql).toMatch(/^--[\s\S]*CREATE OR REPLACE FUNCTION walaudit\.emit_statement_context\(\)/);
  });

  it('creates the schema when the function is missing from an existing schema only if asked', () => {
    const steps = planSetup(input({ tables: [], existing: { schemaExists: true, publicationExists: true, slotExists: true, functionExists: false } }));
    expect(steps.map((s) => s.kind)).toEqual(['function']);
  });

  it('reads the function body from the contract file', () => {
    const body = contextFunctionBody();
    expect(body).toContain("pg_logical_emit_message(true, 'walaudit.stmt', payload)");
    expect(body).toContain('walaudit.last_context');
    expect(body).not.toContain('$walaudit$');
  });

  it('drops and recreates a slot only on request, and creates a failover slot when asked', () => {
    const existing = { publicationExists: true, slotExists: true, functionExists: true };
    const set = [{ ...orders, replicaIdentity: 'full' as const, hasContextTrigger: true, inPublication: true }];
    expect(planSetup(input({ tables: set, existing }))).toEqual([]);
    const steps = planSetup(input({ tables: set, existing, recreateSlot: true, failoverSlot: true }));
    expect(steps.map((s) => s.kind)).toEqual(['slot-drop', 'slot']);
    expect(steps[0]!.sql).toBe("SELECT pg_drop_replication_slot('walaudit')");
    expect(steps[1]).toMatchObject({
      sql: "SELECT pg_create_logical_replication_slot('walaudit', 'pgoutput', false, false, true)",
      done: 'created logical replication slot walaudit (pgoutput, failover)',
    });
  });

  it('publishes a partitioned table through its root and gives every leaf its own identity and trigger', () => {
    const root: PlannedTable = { schema: 'public', table: 'events', replicaIdentity: 'default', hasContextTrigger: false, partitioned: true };
    const leaf: PlannedTable = { schema: 'public', table: 'events_2026', replicaIdentity: 'default', hasContextTrigger: false, partitionOf: 'public.events' };
    const steps = planSetup(input({ allTables: false, tables: [root, leaf] }));
    expect(steps.filter((s) => s.kind === 'trigger').map((s) => s.description)).toEqual(['add trigger walaudit_context on public.events', 'add trigger walaudit_context on public.events_2026']);
    expect(steps.filter((s) => s.kind === 'replica-identity')).toHaveLength(2);
    expect(steps.find((s) => s.kind === 'publication')?.sql).toBe('CREATE PUBLICATION "walaudit" FOR TABLE "public"."events" WITH (publish_via_partition_root = true)');
  });

  it('turns on publish_via_partition_root of an existing publication only when a partitioned table is audited', () => {
    const existing = { publicationExists: true, slotExists: true, functionExists: true, publicationViaRoot: false };
    const done = { replicaIdentity: 'full' as const, hasContextTrigger: true, inPublication: true };
    expect(planSetup(input({ tables: [{ ...orders, ...done }], existing }))).toEqual([]);
    const steps = planSetup(input({ tables: [{ ...orders, ...done, partitioned: true }], existing }));
    expect(steps.map((s) => s.sql)).toEqual(['ALTER PUBLICATION "walaudit" SET (publish_via_partition_root = true)']);
  });
});

describe('partition change recording', () => {
  const root: PlannedTable = { schema: 'public', table: 'events', replicaIdentity: 'full', hasContextTrigger: true, partitioned: true, inPublication: true };
  const existing = { publicationExists: true, slotExists: true, functionExists: true, functionUpToDate: true };

  it('installs the function and both event triggers for a superuser when a partitioned table is audited', () => {
    const steps = planSetup({ slot: 's', publication: 'p', tables: [root], allTables: false, existing, canCreateEventTriggers: true });
    expect(steps.map((s) => s.kind)).toEqual(['partition-function', 'partition-events', 'partition-events']);
    expect(steps[0]?.sql).toContain('CREATE OR REPLACE FUNCTION walaudit.record_partition_change()');
    expect(steps[1]?.sql).toBe("CREATE EVENT TRIGGER walaudit_partitions_before ON ddl_command_start WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE', 'DROP TABLE') EXECUTE FUNCTION walaudit.record_partition_change()");
    expect(steps[2]?.description).toBe('create event trigger walaudit_partitions_after on ddl_command_end');
  });

  it('plans nothing once in place, without a partitioned table, or for a role that may not create event triggers', () => {
    const installed = { functionExists: true, functionUpToDate: true, triggers: ['walaudit_partitions_after', 'walaudit_partitions_before'] };
    expect(planSetup({ slot: 's', publication: 'p', tables: [root], allTables: false, existing: { ...existing, partitionEvents: installed }, canCreateEventTriggers: true })).toEqual([]);
    expect(planSetup({ slot: 's', publication: 'p', tables: [{ ...root, partitioned: false }], allTables: false, existing, canCreateEventTriggers: true })).toEqual([]);
    expect(planSetup({ slot: 's', publication: 'p', tables: [root], allTables: false, existing })).toEqual([]);
    const outdated = planSetup({ slot: 's', publication: 'p', tables: [root], allTables: false, existing: { ...existing, partitionEvents: { ...installed, functionUpToDate: false } }, canCreateEventTriggers: true });
    expect(outdated.map((s) => s.done)).toEqual(['updated function walaudit.record_partition_change()']);
  });
});
