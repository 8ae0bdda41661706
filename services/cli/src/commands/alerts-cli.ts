import type { Command } from 'commander';
import { loadConfig, type CommonFlags } from '../config-loader.js';
import type { Logger } from '../logger.js';
import { alertsAckCommand, alertsListCommand, type AckFlags, type AlertsFlags } from './alerts-commands.js';

export interface CliParts {
  withCommonOptions(command: Command): Command;
  run(action: () => Promise<number | void>): Promise<void>;
  out(line: string): void;
  log: Logger;
}

/** `walaudit alerts` and `walaudit alerts ack`. */
export function registerAlertsCommands(program: Command, cli: CliParts): void {
  const alerts = cli
    .withCommonOptions(program.command('alerts'))
    .description('list alerts (bulk deletions, critical tables), newest first')
    .option('--open', 'only alerts not acknowledged')
    .option('--limit <n>', 'most alerts shown', '50')
    .option('--json', 'JSON lines instead of text')
    .action((flags: CommonFlags & AlertsFlags) => cli.run(() => alertsListCommand(loadConfig(flags), flags, cli.out, cli.log.child('alerts'))));

  cli
    .withCommonOptions(alerts.command('ack'))
    .description('acknowledge alerts; the acknowledgement is recorded in the audit trail')
    .argument('<ids...>', 'alert ids (see `walaudit alerts`)')
    .requiredOption('--by <name>', 'who acknowledges')
    .option('--note <text>', 'why, for the record')
    .option('--json', 'print the result as JSON')
    .action((ids: string[], own: CommonFlags & AckFlags) => {
      // Commander gives options named by both to the parent (`alerts --http-port`): take both.
      const flags = { ...(alerts.opts() as CommonFlags & { json?: boolean }), ...own };
      return cli.run(() => alertsAckCommand(loadConfig(flags), ids, flags, cli.out, cli.log.child('alerts')));
    });
}
