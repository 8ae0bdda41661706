import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { libpqConnectionString } from './connection-string.js';

/** The TLS settings the driver derives from a connection string, without connecting. */
const sslOf = (url: string): unknown => (new pg.Client({ connectionString: url }) as unknown as { connectionParameters: { ssl: unknown } }).connectionParameters.ssl;

describe('libpqConnectionString', () => {
  afterEach(() => vi.restoreAllMocks());

  it('gives sslmode its libpq meaning: require encrypts without verifying, and no driver warning', () => {
    const warn = vi.spyOn(process, 'emitWarning');
    expect(sslOf(libpqConnectionString('postgres://admin:pw@db.example:5432/shop?sslmode=require'))).toMatchObject({ rejectUnauthorized: false });
    expect(warn).not.toHaveBeenCalled();
  });

  it('keeps verify-full verifying', () => {
    expect(sslOf(libpqConnectionString('postgres://db.example/shop?sslmode=verify-full'))).not.toMatchObject({ rejectUnauthorized: false });
  });

  it('leaves a URL without sslmode, or one that already chose, as it is', () => {
    expect(libpqConnectionString('postgres://u@h:5432/d')).toBe('postgres://u@h:5432/d');
    expect(libpqConnectionString('postgres://h/d?sslmode=require&uselibpqcompat=false')).toBe('postgres://h/d?sslmode=require&uselibpqcompat=false');
    expect(libpqConnectionString('postgres://u:p@h/d?sslmode=disable')).toBe('postgres://u:p@h/d?sslmode=disable&uselibpqcompat=true');
  });
});
