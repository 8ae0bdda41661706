import type { RulesApi } from '@walaudit/api';
import { describeError, LiveRules, retryWhileRetriable, WalauditError, type LiveRulesOptions, type RuleChange, type RuleChangeStore, type WalauditConfig } from '@walaudit/core';
import type { Logger } from './logger.js';

/** How long a distributed reader waits for a change's row: the API saves it just after recording it. */
const LOOKUP_WAIT_MS = 10_000;
const LOOKUP_EVERY_MS = 250;

/**
 * The rules a pipeline applies, changed at run time: the config rules with the stored history
 * replayed on them (so a restart keeps every change). Without a store (a distributed reader
 * without store.url) the config rules alone, and run-time changes cannot be checked.
 */
export async function loadLiveRules(config: WalauditConfig, store: RuleChangeStore | null, options: LiveRulesOptions = {}): Promise<LiveRules> {
  const policy = { initialMs: config.pipeline.retryInitialMs, maxMs: config.pipeline.retryMaxMs };
  const history = store ? await retryWhileRetriable(() => store.history(), policy) : [];
  return new LiveRules(config.rules, config.retention.defaultDays, config.masking.hashKey, history, options);
}

/**
 * A distributed reader's rules: a change is made through a writer's API, which records its action
 * and then saves it; the reader, reaching the action, finds the saved change (waiting a little for
 * it), and ignores, with a warning, an action no saved change stands behind.
 */
export function readerLiveRules(config: WalauditConfig, store: RuleChangeStore | null, log: Logger): Promise<LiveRules> {
  const lookup = store
    ? async (id: string): Promise<RuleChange | null> => {
        const deadline = Date.now() + LOOKUP_WAIT_MS;
        for (;;) {
          const found = (await retryWhileRetriable(() => store.history(), { initialMs: config.pipeline.retryInitialMs, maxMs: config.pipeline.retryMaxMs })).find((change) => change.id === id);
          if (found || Date.now() > deadline) return found ?? null;
          await new Promise((resolve) => setTimeout(resolve, LOOKUP_EVERY_MS));
        }
      }
    : undefined;
  const onIgnored = (id: string, event: { schema: string; table: string; action?: { name: string } }) =>
    log.warn(
      store
        ? `${event.action?.name} on ${event.schema}.${event.table} (change ${id}) is in the WAL but no such change was saved through the API: rules unchanged`
        : `${event.action?.name} on ${event.schema}.${event.table} (change ${id}) cannot be checked, as this reader has no store: rules unchanged; give the reader store.url (the writers' ClickHouse server) to apply run-time rule changes`,
    );
  return loadLiveRules(config, store, { lookup, onIgnored });
}

/**
 * The API's side of run-time rules. With `live` (the pipeline's rules in this process), a change
 * is registered there before it is recorded; without it (a distributed writer) the reader finds it
 * in the store when it reaches its action.
 */
export function rulesApi(config: WalauditConfig, store: RuleChangeStore, live?: LiveRules): RulesApi {
  return {
    configRules: config.rules,
    defaultRetentionDays: config.retention.defaultDays,
    history: () => store.history(),
    pending: (id) => live?.pending(id) ?? false,
    tablesInLog: () => store.tablesInLog(),
    async change(change, record) {
      // Registered before it is recorded: the pipeline may reach the action before record() returns.
      live?.expect(change);
      try {
        await record();
      } catch (error) {
        live?.forget(change.id);
        throw error;
      }
      // A few quick attempts, not the pipeline's patience: the answer waits for them.
      let attempts = 0;
      try {
        await retryWhileRetriable(() => store.record(change), { initialMs: 200, maxMs: 2_000, cancelled: () => ++attempts >= 5 });
      } catch (error) {
        throw new WalauditError(
          'STORE_QUERY_FAILED',
          `the change (${change.action} ${change.table}) is recorded in the audit trail${live ? ' and applies now' : ''}, but the store did not save it, so a restart would forget it: repeat the request once the store answers (${describeError(error)})`,
          { cause: error },
        );
      }
    },
  };
}
