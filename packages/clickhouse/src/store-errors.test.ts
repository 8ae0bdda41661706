import { WalauditError } from '@walaudit/core';
import { describe, expect, it } from 'vitest';
import { toStoreError } from './store-errors.js';

const target = 'ClickHouse at http://db:8123';

function serverError(code: string, type: string, message: string): Error {
  return Object.assign(new Error(message), { code, type });
}

describe('toStoreError', () => {
  it('maps a refused connection to a retriable STORE_UNREACHABLE naming the target', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' });
    const error = toStoreError(refused, target);
    expect(error).toMatchObject({ code: 'STORE_UNREACHABLE', retriable: true, cause: refused });
    expect(error.message).toContain('http://db:8123');
  });

  it('finds a socket failure in the cause chain and recognises the client timeout', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(toStoreError(new Error('request failed', { cause: reset }), target).code).toBe('STORE_UNREACHABLE');
    expect(toStoreError(new TypeError('fetch failed'), target).code).toBe('STORE_UNREACHABLE');
    expect(toStoreError(new Error('Timeout error.'), target).code).toBe('STORE_UNREACHABLE');
  });

  it('maps failed authentication to a non-retriable error about the credentials', () => {
    const error = toStoreError(serverError('516', 'AUTHENTICATION_FAILED', 'default: Authentication failed'), target);
    expect(error).toMatchObject({ code: 'STORE_QUERY_FAILED', retriable: false });
    expect(error.message).toMatch(/store\.username and store\.password/);
  });

  it('keeps the server code and message of other failures; transient ones are retriable', () => {
    const unknown = toStoreError(serverError('81', 'UNKNOWN_DATABASE', 'Database nope does not exist.'), target);
    expect(unknown).toMatchObject({ code: 'STORE_QUERY_FAILED', retriable: false });
    expect(unknown.message).toContain('81 UNKNOWN_DATABASE');
    expect(unknown.message).toContain('Database nope does not exist.');
    expect(toStoreError(serverError('252', 'TOO_MANY_PARTS', 'Too many parts'), target).retriable).toBe(true);
  });

  it('reads the code of a chDB native error (its raw insert) from clickhouseCode', () => {
    const native = Object.assign(new Error('Code: 252. DB::Exception: Too many parts (300). (TOO_MANY_PARTS) (version 26.7.2.1)'), {
      code: 'CHDB_INSERT',
      clickhouseCode: 252,
    });
    const error = toStoreError(native, 'the embedded store at /data');
    expect(error).toMatchObject({ code: 'STORE_QUERY_FAILED', retriable: true, cause: native });
    expect(error.message).toContain('252 TOO_MANY_PARTS');
  });

  it('passes WalauditErrors through unchanged', () => {
    const original = new WalauditError('STORE_LOCKED', 'held');
    expect(toStoreError(original, target)).toBe(original);
  });
});
