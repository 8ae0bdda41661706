import type { RulesApi } from '@walaudit/api';
import { describeError, LiveRules, retryWhileRetriable, WalauditError, type RuleChangeStore, type WalauditConfig } from '@walaudit/core';

/**
 * The standalone pipeline's rules, changed at run time: the config rules with the stored history
 * replayed on them (so a restart keeps every change), and the API's side of changing them.
 */
export async function loadLiveRules(config: WalauditConfig, store: RuleChangeStore): Promise<LiveRules> {
  const policy = { initialMs: config.pipeline.retryInitialMs, maxMs: config.pipeline.retryMaxMs };
  const history = await retryWhileRetriable(() => store.history(), policy);
  return new LiveRules(config.rules, config.retention.defaultDays, config.masking.hashKey, history);
}

export function rulesApi(live: LiveRules, store: RuleChangeStore): RulesApi {
  return {
    configRules: live.configRules,
    defaultRetentionDays: live.defaultRetentionDays,
    history: () => store.history(),
    pending: (id) => live.pending(id),
    tablesInLog: () => store.tablesInLog(),
    async change(change, record) {
      // Registered before it is recorded: the pipeline may reach the action before record() returns.
      live.expect(change);
      try {
        await record();
      } catch (error) {
        live.forget(change.id);
        throw error;
      }
      // A few quick attempts, not the pipeline's patience: the answer waits for them.
      let attempts = 0;
      try {
        await retryWhileRetriable(() => store.record(change), { initialMs: 200, maxMs: 2_000, cancelled: () => ++attempts >= 5 });
      } catch (error) {
        throw new WalauditError(
          'STORE_QUERY_FAILED',
          `the change (${change.action} ${change.table}) is recorded in the audit trail and applies now, but the store did not save it, so a restart would forget it: repeat the request once the store answers (${describeError(error)})`,
          { cause: error },
        );
      }
    },
  };
}
