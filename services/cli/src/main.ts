import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CHANGE_OPS, describeError, isWalauditError, type ChangeOp } from '@walaudit/core';
import { loadConfig, type CommonFlags } from './config-loader.js';
import { createLogger } from './logger.js';
import { startCommand, type StartFlags } from './commands/start.js';
import { statusCommand, verifyCommand, type VerifyFlags } from './commands/read-commands.js';
import { logCommand, type LogFlags } from './commands/log-command.js';
import { historyCommand, type HistoryFlags } from './commands/history-command.js';
import { setupCommand, teardownCommand, type SetupFlags } from './commands/setup-commands.js';
import { WALAUDIT_VERSION } from './version.js';
import { registerAlertsCommands } from './commands/alerts-cli.js';
import { registerRulesCommands } from './commands/rules-cli.js';
import { registerEvidenceCommands } from './commands/evidence-commands.js';
import { verifyCheckpointsCommand } from './evidence/verify-checkpoints.js';
import { causedByCommand } from './commands/cascade-commands.js';
import { restoreCommand, type RestoreFlags } from './commands/restore-command.js';
import { exportCommand, type ExportFlags } from './commands/export-command.js';

/**
 * A reader that closes the pipe early (`walaudit verify | head -1`) is not an error of walaudit:
 * output stops, the command still finishes, and its exit code still says what it found.
 */
let stdoutClosed = false;
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  stdoutClosed = true;
});

// Returns nothing: `return out(...)` in a command must not become the exit code (write() returns true).
const out = (line: string): void => {
  if (!stdoutClosed) process.stdout.write(`${line}\n`);
};

const log = createLogger('walaudit');

/**
 * Exit codes, so a script can tell tampering from a typo: 0 ok; 1 only for a finding (the audit log
 * failed verification, a restore was refused by conflicts); 2 any usage or runtime error, its code
 * and message on stderr.
 */
async function run(action: () => Promise<number | void>): Promise<void> {
  try {
    process.exitCode = (await action()) ?? 0;
  } catch (error) {
    process.stderr.write(`walaudit: ${isWalauditError(error) ? `${error.code}: ${error.message}` : describeError(error)}\n`);
    if (!isWalauditError(error) && error instanceof Error && process.env.WALAUDIT_DEBUG) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 2;
  }
}

function withCommonOptions(command: Command): Command {
  return command
    .option('--config <file>', 'YAML config file (default: ./walaudit.yaml when present; env WALAUDIT_CONFIG)')
    .option('--source <url>', 'Postgres URL of the audited database (env DATABASE_URL)')
    .option('--data-dir <dir>', 'directory of the embedded store (env WALAUDIT_DATA_DIR, default .walaudit/data)')
    .option('--clickhouse-url <url>', 'use a ClickHouse server instead of the embedded store (env WALAUDIT_CLICKHOUSE_URL)')
    .option('--http-port <port>', 'HTTP port of the running pipeline (env WALAUDIT_HTTP_PORT, default 7433)')
    .option('--token <token>', 'API token for a running start (env WALAUDIT_TOKEN; default: the local token in the data directory)')
    .option('--slot <name>', 'replication slot (env WALAUDIT_SLOT, default walaudit)')
    .option('--publication <name>', 'publication (env WALAUDIT_PUBLICATION, default walaudit)');
}

const program = new Command('walaudit')
  .description('Postgres change-data-capture audit trail: every row change, hash-chained, in ClickHouse')
  .version(WALAUDIT_VERSION)
  .showHelpAfterError()
  .addHelpText('after', '\nExit codes: 0 ok; 1 the audit log failed verification or a restore was refused; 2 a usage or runtime error.')
  // Inherited by every subcommand defined below: a usage error exits 2, never 1.
  .exitOverride();

withCommonOptions(program.command('setup'))
  .description('prepare a database: publication, slot, REPLICA IDENTITY FULL, context triggers (idempotent)')
  .option('--tables <list>', 'comma-separated tables to audit (default: all tables)')
  .option('--dry-run', 'print the SQL without changing anything')
  .option('--recreate-lost-slot', 'drop a slot Postgres invalidated, create it anew and record the unaudited gap in the audit trail')
  .action((flags: CommonFlags & SetupFlags) => run(() => setupCommand(loadConfig(flags), flags, out)));

withCommonOptions(program.command('teardown'))
  .description('remove the slot and publication, and the triggers, function and schema no remaining walaudit instance uses')
  .option('--reset-replica-identity', 'give tables the REPLICA IDENTITY they had before setup, where no remaining instance publishes them')
  .action((flags: CommonFlags & { resetReplicaIdentity?: boolean }) => run(() => teardownCommand(loadConfig(flags), flags, out)));

withCommonOptions(program.command('start'))
  .description('run the pipeline in the foreground (without a source: a local demo database)')
  .addOption(new Option('--mode <mode>', 'standalone: one process; distributed: Kafka between the reader and the writers').choices(['standalone', 'distributed']).default('standalone').env('WALAUDIT_MODE'))
  .addOption(new Option('--services <which>', 'the services this process runs: distributed mode reader, writer or all; restorer: only a restore worker on cascade.redisUrl').choices(['reader', 'writer', 'all', 'restorer']).default('all').env('WALAUDIT_SERVICES'))
  .action((flags: CommonFlags & StartFlags) => run(() => startCommand(loadConfig(flags), flags, log)));

/** A repeatable flag that also takes a comma list: --table a --table b and --table a,b mean either. */
const collect = (check?: (value: string) => void) => (value: string, previous: string[] | undefined): string[] => {
  const values = value.split(',').map((item) => item.trim()).filter(Boolean);
  for (const item of values) check?.(item);
  return [...(previous ?? []), ...values];
};

const checkOp = (op: string): void => {
  if (!CHANGE_OPS.includes(op as ChangeOp)) throw new InvalidArgumentError(`Allowed choices are ${CHANGE_OPS.join(', ')}.`);
};

withCommonOptions(program.command('log'))
  .description('list audit entries, newest first; every filter given narrows (AND), a list matches any of its values')
  .option('--table <name>', 'schema.table, or a table name in any schema; repeat or comma-separate for several', collect())
  .option('--op <op>', `operation: ${CHANGE_OPS.join(', ')}; repeat or comma-separate for several`, collect(checkOp))
  .option('--actor <name>', 'application user (withAuditContext) or database user')
  .option('--ip <address>', 'client address')
  .option('--application <name>', 'Postgres application_name of the session')
  .option('--text <text>', 'text inside a value of the row before or after the change (case-insensitive)')
  .option('--trace-id <id>', 'entries of one request: the W3C trace id (32 hex digits) of its statements\' traceparent tag')
  .option('--tag <key=value>', 'a sqlcommenter tag the statement carried, exact; repeat for several (all must match)', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
  .option('--from <time>', 'committed at or after this time (ISO 8601)')
  .option('--since <time>', 'the older name of --from')
  .option('--to <time>', 'committed before this time (ISO 8601)')
  .option('--pk <json>', 'one row: its primary key as JSON, \'{"id":"3"}\', with exactly one --table')
  .option('--xid <xid>', 'entries of one transaction')
  .option('--limit <n>', 'most entries shown; any number, read a page at a time', '50')
  .addOption(new Option('--page-size <n>', 'entries per request').hideHelp())
  .option('--json', 'JSON lines instead of text')
  .option('--caused-by <id>', 'everything the deletion of this entry removed or nulled (ON DELETE CASCADE / SET NULL), as a tree')
  .action((flags: CommonFlags & LogFlags & { causedBy?: string }) =>
    run(() => (flags.causedBy ? causedByCommand(loadConfig(flags), flags.causedBy, flags, out) : logCommand(loadConfig(flags), flags, out))));

withCommonOptions(program.command('history'))
  .description('every version of one row, oldest first: created, updated, deleted, restored')
  .option('--table <name>', 'the row\'s table, schema.table')
  .option('--pk <json>', 'its primary key as JSON, \'{"id":"3"}\' (values as Postgres prints them)')
  .option('--limit <n>', 'most versions shown (default: all)')
  .addOption(new Option('--page-size <n>', 'versions per request').hideHelp())
  .option('--json', 'JSON lines instead of text')
  .action((flags: CommonFlags & HistoryFlags) => run(() => historyCommand(loadConfig(flags), flags, out)));

withCommonOptions(program.command('export'))
  .description('export the entries a filter matches from a running start: CSV, JSON lines, or a PDF audit report with the verification of their hash chains')
  .addOption(new Option('--format <format>', 'csv (one header row, RFC 4180), jsonl (one entry per line) or pdf (report)').choices(['csv', 'jsonl', 'pdf']).makeOptionMandatory())
  .option('--out <file>', 'write here (appears only once complete) instead of stdout')
  .option('--table <name>', 'schema.table, or a table name in any schema; repeat or comma-separate for several', collect())
  .option('--op <op>', `operation: ${CHANGE_OPS.join(', ')}; repeat or comma-separate for several`, collect(checkOp))
  .option('--from <time>', 'committed at or after this time (ISO 8601)')
  .option('--since <time>', 'the older name of --from')
  .option('--to <time>', 'committed before this time (ISO 8601)')
  .option('--actor <name>', 'application user (withAuditContext) or database user')
  .option('--ip <address>', 'client address')
  .option('--application <name>', 'Postgres application_name of the session')
  .option('--xid <xid>', 'one transaction')
  .option('--pk <json>', 'one row: its primary key as JSON, {"id":"42"} (with one --table)')
  .option('--text <text>', 'text inside a value before or after the change, case-insensitive')
  .option('--trace-id <id>', 'entries of one request: the W3C trace id (32 hex digits) of its statements\' traceparent tag')
  .option('--tag <key=value>', 'a sqlcommenter tag the statement carried, exact; repeat for several (all must match)', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
  .option('--snapshots', 'pdf: add an appendix with each row before and after')
  .action((flags: CommonFlags & ExportFlags) => run(() => exportCommand(loadConfig(flags), flags, process.stdout)));

withCommonOptions(program.command('verify'))
  .description('recompute the hash chain; exit 1 and name the first altered, removed or inserted entry')
  .option('--json', 'print the report as JSON')
  .option('--allow-empty', 'an empty audit log is expected: exit 0 (without it, an empty log exits 2: nothing was verified)')
  .option('--checkpoints <file>', 'also compare every chain with the signed checkpoints in this file (checkpoints.file): names cut tails and heads and recomputed chains; reads the store itself')
  .option('--key <key>', 'verifier key of the checkpoints (walaudit keys generate printed it), or a file of them; repeat for old keys after a rotation', collect())
  .action((flags: CommonFlags & VerifyFlags & { checkpoints?: string; key?: string[] }) =>
    run(() => (flags.checkpoints ? verifyCheckpointsCommand(loadConfig(flags), { ...flags, checkpoints: flags.checkpoints }, out) : verifyCommand(loadConfig(flags), flags, out))));

withCommonOptions(program.command('status'))
  .description('slot position, lag behind the server, events per second, last error')
  .option('--json', 'print the status as JSON')
  .action((flags: CommonFlags & { json?: boolean }) => run(() => statusCommand(loadConfig(flags), flags, out)));

registerAlertsCommands(program, { withCommonOptions, run, out, log });
registerRulesCommands(program, { withCommonOptions, run, out, log });
registerEvidenceCommands(program, { withCommonOptions, run, out, log });

withCommonOptions(program.command('restore'))
  .argument('[entryId]', 'the delete to undo (an entry id from walaudit log)')
  .description('put deleted rows back (one row, a transaction, a cascade) or revert an update, in one transaction')
  .option('--tx <xid>', 'every row this transaction deleted')
  .option('--cascade <entryId>', 'the row and everything its deletion removed or set to NULL')
  .option('--revert <entryId>', 'an updated row back to its values before the update')
  .option('--dry-run', 'print the ordered SQL and every conflict; change nothing')
  .addOption(new Option('--on-conflict <policy>', 'what to do when a row cannot go back as it was (default cascade.onConflict: fail)').choices(['fail', 'skip', 'new-key']))
  .option('--wait', 'follow the job: progress, then the report')
  .option('--status <job>', 'show a restore job')
  .option('--user <name>', 'who asks (recorded with the restored rows; default: the OS user)')
  .option('--json', 'print the report (or job) as JSON')
  .action((entryId: string | undefined, flags: CommonFlags & RestoreFlags) => run(() => restoreCommand(loadConfig(flags), entryId, flags, out)));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Commander has already printed the message (and the help after an error); --help and --version end with 0.
  if (!(error instanceof CommanderError)) throw error;
  process.exitCode = error.exitCode === 0 ? 0 : 2;
}
