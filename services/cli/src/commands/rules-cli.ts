import type { Command } from 'commander';
import { loadConfig, type CommonFlags } from '../config-loader.js';
import type { CliParts } from './alerts-cli.js';
import { retentionChangeCommand, retentionListCommand, rulesChangeCommand, rulesListCommand, rulesUndoCommand } from './rules-commands.js';

type JsonFlags = CommonFlags & { json?: boolean };

/** Options named on both the parent and the subcommand land on the parent: take both. */
const flagsOf = <T>(parent: Command, own: T) => ({ ...(parent.opts() as JsonFlags), ...own });

/** `walaudit rules list|exclude|watch|undo` and `walaudit retention list|set|unset`, through the running start. */
export function registerRulesCommands(program: Command, cli: CliParts): void {
  const rules = cli
    .withCommonOptions(program.command('rules'))
    .description('audit rules changed at run time (manager token): stop auditing a table, watch it as critical, undo; applied from the next transaction, no restart, recorded in the audit trail')
    .addHelpText('after', '\nA run-time change is ahead of the config rules for its table only, and survives restarts; undo gives the table its config rules back.\nExamples:\n  walaudit rules exclude public.sessions\n  walaudit rules watch --entry 00000000016B374D-0\n  walaudit rules undo exclude public.sessions');

  cli
    .withCommonOptions(rules.command('list'))
    .description('the overrides in effect, the config rules, and every change with who made it and when')
    .option('--json', 'print the answer of GET /api/rules')
    .action((own: JsonFlags) => {
      const flags = flagsOf(rules, own);
      return cli.run(() => rulesListCommand(loadConfig(flags), flags, cli.out));
    });
  for (const action of ['exclude', 'watch'] as const) {
    cli
      .withCommonOptions(rules.command(action))
      .description(action === 'exclude' ? 'stop auditing a table from the next transaction on' : 'audit a table as critical (a deletion raises a critical-table alert) from the next transaction on')
      .argument('[table]', 'schema.table, or a table of the public schema')
      .option('--entry <id>', 'the table of this entry (walaudit log)')
      .option('--json', 'print the answer as JSON')
      .action((table: string | undefined, own: JsonFlags & { entry?: string }) => {
        const flags = flagsOf(rules, own);
        return cli.run(() => rulesChangeCommand(loadConfig(flags), action, table, flags, cli.out));
      });
  }
  cli
    .withCommonOptions(rules.command('undo'))
    .description('take back an exclude or a watch: the table follows the config rules again')
    .argument('<action>', 'exclude or watch')
    .argument('<table>', 'schema.table, or a table of the public schema')
    .option('--json', 'print the answer as JSON')
    .action((action: string, table: string, own: JsonFlags) => {
      const flags = flagsOf(rules, own);
      return cli.run(() => rulesUndoCommand(loadConfig(flags), action, table, flags, cli.out));
    });

  const retention = cli
    .withCommonOptions(program.command('retention'))
    .description("days each table's entries are kept, and run-time overrides of it (manager token); a change applies to the next entries, recorded in the audit trail");
  cli
    .withCommonOptions(retention.command('list'))
    .description('the retention of each table in the log or named in the rules, and whether an override, a rule or the default decides it')
    .option('--json', 'print the answer of GET /api/retention')
    .action((own: JsonFlags) => {
      const flags = flagsOf(retention, own);
      return cli.run(() => retentionListCommand(loadConfig(flags), flags, cli.out));
    });
  cli
    .withCommonOptions(retention.command('set'))
    .description("keep the table's next entries this many days (0: forever), whatever the config rules say")
    .argument('<table>', 'schema.table, or a table of the public schema')
    .argument('<days>', 'days after commit; 0 keeps forever')
    .option('--json', 'print the answer as JSON')
    .action((table: string, days: string, own: JsonFlags) => {
      const flags = flagsOf(retention, own);
      return cli.run(() => retentionChangeCommand(loadConfig(flags), table, days, flags, cli.out));
    });
  cli
    .withCommonOptions(retention.command('unset'))
    .description('drop the override: the config rule or retention.defaultDays decides again')
    .argument('<table>', 'schema.table, or a table of the public schema')
    .option('--json', 'print the answer as JSON')
    .action((table: string, own: JsonFlags) => {
      const flags = flagsOf(retention, own);
      return cli.run(() => retentionChangeCommand(loadConfig(flags), table, undefined, flags, cli.out));
    });
}
