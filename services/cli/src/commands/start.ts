import { checkBindAddress } from '@walaudit/api';
import type { WalauditConfig } from '@walaudit/core';
import type { Logger } from '../logger.js';
import { runStandalone } from '../pipelines/standalone/standalone-process.js';
import { runDistributed } from '../pipelines/distributed/distributed-process.js';
import { runRestoreWorker } from '../pipelines/restore-worker-process.js';

export interface StartFlags {
  mode: 'standalone' | 'distributed';
  /** Distributed mode: reader, writer or all (both); `restorer` alone runs a restore worker. */
  services: 'reader' | 'writer' | 'all' | 'restorer';
}

/** `walaudit start`: picks the pipeline the flags name and runs it in the foreground. */
export async function startCommand(config: WalauditConfig, flags: StartFlags, log: Logger): Promise<void> {
  if (flags.services === 'restorer') return runRestoreWorker(config, log);
  // Before anything is opened: an API that would expose the trail in clear is a configuration error.
  checkBindAddress(config.http, () => {});
  if (flags.mode === 'distributed') return runDistributed(config, flags.services === 'all' ? ['reader', 'writer'] : [flags.services], log);
  return runStandalone(config, log);
}
