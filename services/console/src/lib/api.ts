/**
 * Every call to walaudit's HTTP API, with the signed-in token as a bearer header. The token lives
 * in sessionStorage (gone with the tab) and is never a cookie: the browser never sends it on its
 * own, so there is no cross-site request to forge.
 */
const KEY = 'walaudit.token';
export const SIGNED_OUT = 'walaudit:signed-out';

export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(KEY),
  set: (token: string) => sessionStorage.setItem(KEY, token),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function headers(json: boolean): Record<string, string> {
  const token = tokenStore.get();
  return { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(json ? { 'content-type': 'application/json' } : {}) };
}

async function failure(response: Response): Promise<ApiError> {
  let code = `HTTP_${response.status}`;
  let message = response.statusText || `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // not JSON: keep the status line
  }
  // A token that stopped working (revoked, or the server's data directory changed) signs out;
  // a 401 without one is only the first visit, or a proxy that does not sign people in.
  if (response.status === 401 && tokenStore.get() !== null) {
    tokenStore.clear();
    window.dispatchEvent(new CustomEvent(SIGNED_OUT, { detail: message }));
  }
  return new ApiError(response.status, code, message);
}

export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers: headers(init.body !== undefined),
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: init.signal,
  });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

/** Fetches a file with the token (a plain link could not send it) and hands it to the browser as a download. */
export async function download(path: string): Promise<string> {
  const response = await fetch(path, { headers: headers(false) });
  if (!response.ok) throw await failure(response);
  const blob = await response.blob();
  const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'walaudit-export';
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
