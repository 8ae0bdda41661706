import { WalauditError, type WalauditConfig, type WalauditErrorCode } from '@walaudit/core';
import { clientToken } from './local-token.js';

/** The running process's base URL, as the read commands reach it on this host. */
function baseUrl(config: WalauditConfig): string {
  const host = ['0.0.0.0', '::', ''].includes(config.http.host) ? '127.0.0.1' : config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  return `${config.http.tlsCertFile ? 'https' : 'http'}://${host}:${config.http.port}`;
}

/** The bearer token (never printed): --token / WALAUDIT_TOKEN, else the local token file. */
function authHeaders(config: WalauditConfig): Record<string, string> {
  const token = clientToken(config);
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * Asks a running `walaudit start` over HTTP. Returns undefined when nothing listens on the
 * configured port, so the caller can fall back to opening the store itself.
 */
export async function askRunningInstance<T>(config: WalauditConfig, path: string, init: RequestInit = {}): Promise<T | undefined> {
  const url = `${baseUrl(config)}${path}`;
  let response: Response;
  try {
    response = await fetch(url, { ...init, headers: { ...authHeaders(config), ...(init.headers as Record<string, string> | undefined) }, signal: AbortSignal.timeout(120_000) });
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED') return undefined;
    throw new WalauditError('SERVER_NOT_RUNNING', `cannot reach walaudit at ${url}: ${(error as Error).message}`, { cause: error });
  }
  const body = (await response.json()) as T & { error?: { code: string; message: string } };
  if (!response.ok && body.error) {
    // The running process's own code (ALERT_NOT_FOUND, CONFIG_INVALID...) is what the user acts on.
    const code = (body.error.code ?? 'INTERNAL') as WalauditErrorCode;
    throw new WalauditError(code, `walaudit at ${url} answered ${response.status}: ${body.error.message.replace(/^[A-Z_]+: /, '')}`);
  }
  return body;
}

/** POSTs JSON to a running `walaudit start`; undefined when none listens. Errors carry its code. */
export async function postToRunningInstance<T>(config: WalauditConfig, path: string, body: unknown): Promise<T | undefined> {
  const url = `${baseUrl(config)}${path}`;
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { ...authHeaders(config), 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(600_000) });
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED') return undefined;
    throw new WalauditError('SERVER_NOT_RUNNING', `cannot reach walaudit at ${url}: ${(error as Error).message}`, { cause: error });
  }
  const answer = (await response.json()) as T & { error?: { code: WalauditErrorCode; message: string } };
  if (!response.ok && answer.error) {
    const code = answer.error.code ?? 'INTERNAL';
    throw new WalauditError(code, answer.error.message.startsWith(`${code}: `) ? answer.error.message.slice(code.length + 2) : answer.error.message);
  }
  return answer;
}

/**
 * GETs a body to stream (an export) from a running `walaudit start`; undefined when none listens.
 * Only the wait for the answer's headers is bounded: an export may take long to send, and a cut
 * connection then fails the read of the body, not this call.
 */
export async function streamFromRunningInstance(config: WalauditConfig, path: string): Promise<Response | undefined> {
  const url = `${baseUrl(config)}${path}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('no answer within 120 s')), 120_000);
  let response: Response;
  try {
    response = await fetch(url, { headers: authHeaders(config), signal: controller.signal });
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED') return undefined;
    throw new WalauditError('SERVER_NOT_RUNNING', `cannot reach walaudit at ${url}: ${(error as Error).message}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) {
    const text = await response.text();
    let error: { code?: WalauditErrorCode; message?: string } | undefined;
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error;
    } catch {
      // Not walaudit's JSON error: the status says enough.
    }
    throw new WalauditError(error?.code ?? 'INTERNAL', `walaudit at ${url} answered ${response.status}: ${(error?.message ?? text.slice(0, 200)).replace(/^[A-Z_]+: /, '')}`);
  }
  return response;
}
