import { isIP } from 'node:net';
import { WalauditError, type WalauditConfig } from '@walaudit/core';

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/**
 * Tokens sent in clear over a network are as good as public: listening beyond loopback needs TLS
 * or a trusted proxy in front (which terminates TLS), unless the operator says otherwise.
 */
export function checkBindAddress(http: WalauditConfig['http'], warn: (message: string) => void): void {
  if (isLoopback(http.host)) return;
  const tls = Boolean(http.tlsCertFile && http.tlsKeyFile);
  if (tls || http.trustedProxies.length > 0) return;
  const message = `the HTTP API would listen on ${http.host} without TLS: tokens and audited values would cross the network in clear`;
  if (!http.allowInsecureBind) {
    throw new WalauditError('API_INSECURE_BIND', `${message}. Set http.tlsCertFile and http.tlsKeyFile, or put a proxy in front (http.trustedProxies), or keep http.host on 127.0.0.1; http.allowInsecureBind: true accepts the risk`);
  }
  warn(`${message} (http.allowInsecureBind is set)`);
}
