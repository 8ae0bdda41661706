import { describeKey, qualifiedName, runNames, type RestorePlan, type RestoreReport, type RowImage } from '@walaudit/core';

/** The report of a plan that ran (or would run, dry run), or was refused by its conflicts. */
export function buildReport(plan: RestorePlan, dryRun: boolean, newKeys: Map<string, RowImage>): RestoreReport {
  const restoredByTable: Record<string, number> = {};
  let restored = 0;
  const newKeySteps: RestorePlan['levels'][number] = [];
  // Rows come in runs of one table: a name is built once per run.
  const nameOf = runNames();
  for (const level of plan.levels) {
    restored += level.length;
    for (const step of level) {
      if (step.newKey) newKeySteps.push(step);
      if (plan.blocked) continue;
      const name = nameOf(step.schema, step.table);
      restoredByTable[name] = (restoredByTable[name] ?? 0) + 1;
    }
  }
  const failing = plan.conflicts.filter((c) => c.resolution === 'fail');
  return {
    request: plan.request,
    policy: plan.policy,
    dryRun,
    outcome: plan.blocked ? 'failed' : 'ok',
    restored: plan.blocked ? 0 : restored,
    restoredByTable,
    newKeys: newKeySteps.map((s) => ({ entryId: s.entryId, table: qualifiedName(s.schema, s.table), oldKey: s.key, newKey: newKeys.get(s.entryId) ?? {} })),
    updated: plan.blocked ? 0 : plan.updates.length,
    alreadyPresent: plan.alreadyPresent.length,
    skipped: plan.conflicts.filter((c) => c.resolution === 'skipped').map((c) => ({ entryId: c.entryId, table: qualifiedName(c.schema, c.table), key: c.key, reason: c.detail })),
    conflicts: plan.conflicts,
    ...(plan.blocked
      ? { error: { code: 'RESTORE_CONFLICT', message: `${failing.length} conflict${failing.length === 1 ? '' : 's'} under --on-conflict fail: nothing was restored. Review them, then run again with --on-conflict skip or new-key` } }
      : {}),
  };
}

/** The report for a terminal. */
export function formatReport(report: RestoreReport): string[] {
  const lines: string[] = [];
  const verb = report.dryRun ? 'would restore' : 'restored';
  if (report.outcome === 'failed') lines.push(`restore FAILED: ${report.error?.message ?? 'unknown error'}`);
  else lines.push(`${verb} ${report.restored} rows${report.updated > 0 ? `, ${report.dryRun ? 'would set' : 'set'} back ${report.updated} updated rows` : ''}${report.alreadyPresent > 0 ? `; ${report.alreadyPresent} already back as they were` : ''}`);
  for (const [table, count] of Object.entries(report.restoredByTable)) lines.push(`  ${table}: ${count}`);
  for (const key of report.newKeys) lines.push(`  new key: ${key.table} ${describeKey(key.oldKey)} -> ${describeKey(key.newKey)} (entry ${key.entryId})`);
  const notes = report.conflicts.filter((c) => c.resolution !== 'skipped');
  if (notes.length > 0) lines.push(`conflicts (${notes.length}):`);
  for (const c of notes) lines.push(`  ${c.resolution.toUpperCase()} ${c.kind} ${c.schema}.${c.table} ${describeKey(c.key)} (entry ${c.entryId}): ${c.detail}`);
  if (report.skipped.length > 0) lines.push(`skipped (${report.skipped.length}):`);
  for (const s of report.skipped) lines.push(`  ${s.table} ${describeKey(s.key)} (entry ${s.entryId}): ${s.reason}`);
  return lines;
}
