import type { Registry } from 'prom-client';
import { describeError, isWalauditError, type AuditStore, type IntegrityDetail, type WalauditConfig } from '@walaudit/core';
import type { Logger } from '../logger.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { loadSigningKey } from './signing-key.js';

/** The checkpointer of a configuration with a signing key; null (and a hint) without one. */
export async function startConfiguredCheckpointer(deps: {
  config: WalauditConfig;
  store: Pick<AuditStore, 'chainHeads' | 'readChain'>;
  registry: Registry;
  log: Logger;
  /** Raises the integrity alert of a refusal. */
  alerter?: { integrity(detail: IntegrityDetail): Promise<unknown>; idle(): Promise<void> };
  /** Called before a refusal propagates, to release what the start opened. */
  onRefused?: () => Promise<unknown>;
}): Promise<Checkpointer | null> {
  const signer = loadSigningKey(deps.config);
  if (!signer) {
    deps.log.info('checkpoints: off (no signing key; walaudit keys generate --out FILE, then set checkpoints.keyFile)');
    return null;
  }
  try {
    return await startCheckpointer({ config: deps.config, signer, store: deps.store, registry: deps.registry, log: deps.log });
  } catch (error) {
    if (deps.alerter && isWalauditError(error) && error.code === 'CHECKPOINT_MISMATCH') {
      const chain = /chain (p\d+\/r\d+)/.exec(error.message)?.[1] ?? 'unknown';
      try {
        await deps.alerter.integrity({ chain, message: error.message.split('. walaudit does not chain')[0]!, checkpointFile: deps.config.checkpoints.file });
        await deps.alerter.idle();
      } catch (alertError) {
        deps.log.error(`the integrity alert could not be raised: ${describeError(alertError)}`);
      }
    }
    await deps.onRefused?.().catch(() => undefined);
    throw error;
  }
}
