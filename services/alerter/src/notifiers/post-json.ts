import { WalauditError } from '@walaudit/core';

/**
 * POSTs JSON; a 2xx is delivered. A refused connection, a timeout, a 5xx, 408 or 429 may pass on
 * retry; any other 4xx means the request itself is wrong (bad URL, bad key) and is not retried.
 */
export async function postJson(channel: string, url: string, body: unknown, signal: AbortSignal): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new WalauditError('NOTIFY_FAILED', `${channel}: cannot POST to ${displayUrl(url)} (${cause}): ${(error as Error).message}`, { retriable: true, cause: error });
  }
  const text = await response.text().catch(() => '');
  if (response.ok) return;
  const retriable = response.status >= 500 || response.status === 408 || response.status === 429;
  throw new WalauditError('NOTIFY_FAILED', `${channel}: ${displayUrl(url)} answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`, { retriable });
}

/** Without credentials or query (a webhook URL's path often is the secret: keep only its start). */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const path = parsed.pathname.length > 12 ? `${parsed.pathname.slice(0, 12)}...` : parsed.pathname;
    return `${parsed.protocol}//${parsed.host}${path}`;
  } catch {
    return '(invalid URL)';
  }
}
