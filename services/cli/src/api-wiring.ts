import type { ApiServerDeps } from '@walaudit/api';
import type { WalauditConfig } from '@walaudit/core';
import { apiActionRecorder } from './api-actions.js';
import { ensureLocalToken } from './local-token.js';
import type { Logger } from './logger.js';

/**
 * What every `start` gives its API beside its own parts: the http options, the local token (a
 * file in the data directory for this host's read commands) and the recorder of audited actions.
 */
export function apiBase(config: WalauditConfig, sourceUrl: string | undefined, log: Logger): Pick<ApiServerDeps, 'http' | 'report' | 'localToken' | 'recordAction' | 'log'> {
  return { http: config.http, report: config.report, localToken: ensureLocalToken(config), recordAction: apiActionRecorder(sourceUrl), log };
}
