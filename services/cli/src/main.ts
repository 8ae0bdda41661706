import { Command, Option } from 'commander';
import { describeError, isWalauditError } from '@walaudit/core';
import { loadConfig, type CommonFlags } from './config-loader.js';
import { createLogger } from './logger.js';
import { startCommand } from './commands/start.js';
import { startDistributedCommand, type DistributedServices } from './commands/start-distributed.js';
import { logCommand, statusCommand, verifyCommand, type LogFlags } from './commands/read-commands.js';
import { setupCommand, teardownCommand } from './commands/setup-commands.js';
import { WALAUDIT_VERSION } from './version.js';

// Returns nothing: `return out(...)` in a command must not become the exit code (write() returns true).
const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

interface StartFlags {
  mode: 'standalone' | 'distributed';
  services: DistributedServices;
}
const log = createLogger('walaudit');

/** Exit codes: 0 ok, 1 the audit log failed verification, 2 an error (its code and message on stderr). */
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
    .option('--slot <name>', 'replication slot (env WALAUDIT_SLOT, default walaudit)')
    .option('--publication <name>', 'publication (env WALAUDIT_PUBLICATION, default walaudit)');
}

const program = new Command('walaudit')
  .description('Postgres change-data-capture audit trail: every row change, hash-chained, in ClickHouse')
  .version(WALAUDIT_VERSION)
  .showHelpAfterError();

withCommonOptions(program.command('setup'))
  .description('prepare a database: publication, slot, REPLICA IDENTITY FULL, context triggers (idempotent)')
  .option('--tables <list>', 'comma-separated tables to audit (default: all tables)')
  .option('--dry-run', 'print the SQL without changing anything')
  .action((flags: CommonFlags & { dryRun?: boolean }) => run(() => setupCommand(loadConfig(flags), flags, out)));

withCommonOptions(program.command('teardown'))
  .description('remove the slot, publication and triggers, so no WAL is held for walaudit')
  .action((flags: CommonFlags) => run(() => teardownCommand(loadConfig(flags), out)));

withCommonOptions(program.command('start'))
  .description('run the pipeline in the foreground (without a source: a local demo database)')
  .addOption(new Option('--mode <mode>', 'standalone: one process; distributed: Kafka between the reader and the writers').choices(['standalone', 'distributed']).default('standalone').env('WALAUDIT_MODE'))
  .addOption(new Option('--services <which>', 'distributed mode: the services this process runs').choices(['reader', 'writer', 'all']).default('all').env('WALAUDIT_SERVICES'))
  .action((flags: CommonFlags & StartFlags) => run(() => (flags.mode === 'distributed' ? startDistributedCommand(loadConfig(flags), flags.services, log) : startCommand(loadConfig(flags), log))));

withCommonOptions(program.command('log'))
  .description('list audit entries, newest first')
  .option('--table <name>', 'schema.table, or a table name in any schema')
  .addOption(new Option('--op <op>', 'only this operation').choices(['insert', 'update', 'delete', 'truncate', 'action', 'schema']))
  .option('--since <time>', 'entries committed at or after this time (ISO 8601)')
  .option('--xid <xid>', 'entries of one transaction')
  .option('--limit <n>', 'most entries shown', '50')
  .option('--json', 'JSON lines instead of text')
  .action((flags: CommonFlags & LogFlags) => run(() => logCommand(loadConfig(flags), flags, out)));

withCommonOptions(program.command('verify'))
  .description('recompute the hash chain; exit 1 and name the first altered, removed or inserted entry')
  .option('--json', 'print the report as JSON')
  .action((flags: CommonFlags & { json?: boolean }) => run(() => verifyCommand(loadConfig(flags), flags, out)));

withCommonOptions(program.command('status'))
  .description('slot position, lag behind the server, events per second, last error')
  .option('--json', 'print the status as JSON')
  .action((flags: CommonFlags & { json?: boolean }) => run(() => statusCommand(loadConfig(flags), flags, out)));

await program.parseAsync(process.argv);
