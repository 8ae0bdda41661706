import type { Registry } from 'prom-client';
import type { AuditStore, WalauditConfig } from '@walaudit/core';
import type { Logger } from '../logger.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { loadSigningKey } from './signing-key.js';

/** The checkpointer of a configuration with a signing key; null (and a hint) without one. */
export async function startConfiguredCheckpointer(deps: {
  config: WalauditConfig;
  store: Pick<AuditStore, 'chainHeads' | 'readChain'>;
  registry: Registry;
  log: Logger;
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
    await deps.onRefused?.().catch(() => undefined);
    throw error;
  }
}
