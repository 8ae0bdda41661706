/**
 * What is wrong with a connection URL, in words a DBA can act on, or null when it is usable. The
 * drivers' own answer to a bad URL is a bare "Invalid URL" from deep inside a connect.
 */
export function connectionUrlProblem(value: string, schemes: readonly string[], example: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    const port = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*:(\d+)/i.exec(value)?.[1];
    if (port !== undefined && Number(port) > 65535) return `port ${port} is out of range (1 to 65535), expected e.g. ${example}`;
    return `not a URL, expected e.g. ${example}`;
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (!schemes.includes(scheme)) return `scheme "${scheme}:" is not one of ${schemes.map((s) => `${s}:`).join(', ')}, expected e.g. ${example}`;
  if (url.port === '0') return `port 0 is out of range (1 to 65535), expected e.g. ${example}`;
  return null;
}

/** The URL as it may be printed: the password replaced, everything else kept. */
export function redactUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^@/?#]*@/i, '$1:***@');
}
