import { describe, expect, it } from 'vitest';
import { parseConfig } from '@walaudit/core';
import { checkBindAddress, isLoopback } from './bind-policy.js';

const http = (input: Record<string, unknown>) => parseConfig({ http: input }, 'test').http;

describe('checkBindAddress', () => {
  it('accepts loopback, TLS, or a trusted proxy; refuses 0.0.0.0 in clear unless overridden, with a warning', () => {
    expect(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost')).toBe(true);
    expect(() => checkBindAddress(http({ host: '127.0.0.1' }), () => {})).not.toThrow();
    expect(() => checkBindAddress(http({ host: '0.0.0.0' }), () => {})).toThrow(/API_INSECURE_BIND|without TLS/);
    expect(() => checkBindAddress(http({ host: '0.0.0.0', tlsCertFile: 'c', tlsKeyFile: 'k' }), () => {})).not.toThrow();
    expect(() => checkBindAddress(http({ host: '0.0.0.0', trustedProxies: ['10.0.0.5'] }), () => {})).not.toThrow();
    const warnings: string[] = [];
    checkBindAddress(http({ host: '0.0.0.0', allowInsecureBind: true }), (message) => warnings.push(message));
    expect(warnings[0]).toContain('without TLS');
  });
});
