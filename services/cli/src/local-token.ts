import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { newApiToken } from '@walaudit/api';
import { WalauditError, type WalauditConfig } from '@walaudit/core';

/**
 * The manager token `walaudit start` keeps for this host's read commands, inside the data
 * directory: whoever may read that directory (the audit data itself) may use the commands.
 */
export function localTokenFile(config: WalauditConfig): string {
  return join(resolve(config.store.dataDir), 'api-token');
}

/**
 * The local token, written (mode 0600) on the first start and kept after: processes sharing a
 * data directory, and restarts, keep one token. Delete the file and restart to change it.
 */
export function ensureLocalToken(config: WalauditConfig): { token: string; file: string } {
  const file = localTokenFile(config);
  try {
    mkdirSync(resolve(config.store.dataDir), { recursive: true, mode: 0o700 });
    const { token } = newApiToken();
    try {
      writeFileSync(file, `${token}\n`, { flag: 'wx', mode: 0o600 });
      return { token, file };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    chmodSync(file, 0o600);
    const existing = readFileSync(file, 'utf8').trim();
    if (!existing) throw new Error('the file is empty: delete it and start again');
    return { token: existing, file };
  } catch (error) {
    throw new WalauditError('CONFIG_INVALID', `cannot keep the local API token in ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** The token the read commands send: --token / WALAUDIT_TOKEN, else the local token file when readable. */
export function clientToken(config: WalauditConfig): string | undefined {
  if (config.http.token) return config.http.token;
  try {
    return readFileSync(localTokenFile(config), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
