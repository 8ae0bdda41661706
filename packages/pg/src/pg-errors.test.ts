import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { WalauditError } from '@walaudit/core';
import { connectionLabel, toWalauditError } from './pg-errors.js';

const URL_WITH_PASSWORD = 'postgres://alice:s3cret@db.example:6543/shop';

/** What node-postgres throws for a server error: a DatabaseError carrying the SQLSTATE in `code`. */
function serverError(code: string, message: string, detail?: string): Error {
  const error = new pg.DatabaseError(message, message.length, 'error');
  error.code = code;
  error.detail = detail;
  return error;
}

function socketError(code: string, address = '10.0.0.5', port = 6543): Error {
  return Object.assign(new Error(`connect ${code} ${address}:${port}`), { code, errno: -111, syscall: 'connect', address, port });
}

describe('connectionLabel', () => {
  it('shows host, port and database, never the password', () => {
    expect(connectionLabel(URL_WITH_PASSWORD)).toBe('db.example:6543/shop');
    expect(connectionLabel('postgres://bob@localhost/')).toBe('localhost:5432/bob');
    expect(connectionLabel('host=x password=secret')).not.toContain('secret');
  });
});

describe('toWalauditError', () => {
  it.each(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET'])('maps %s to a retriable PG_UNREACHABLE', (code) => {
    const error = toWalauditError(socketError(code), URL_WITH_PASSWORD);
    expect(error).toBeInstanceOf(WalauditError);
    expect(error).toMatchObject({ code: 'PG_UNREACHABLE', retriable: true });
    expect(error.message).toContain('10.0.0.5:6543');
    expect(error.message).toMatch(/check the URL and that Postgres is running/);
    expect(error.message).not.toContain('s3cret');
  });

  it.each([
    ['57P01', 'terminating connection due to administrator command'],
    ['57P02', 'terminating connection because of crash of another server process'],
    ['57P03', 'the database system is starting up'],
    ['57P05', 'terminating connection due to idle-session timeout'],
  ])('maps a server going away or not yet up (%s) to a retriable PG_UNREACHABLE', (code, message) => {
    expect(toWalauditError(serverError(code, message), URL_WITH_PASSWORD)).toMatchObject({ code: 'PG_UNREACHABLE', retriable: true });
  });

  it('names the URL when the socket error has no address (DNS failure)', () => {
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND db.example'), { code: 'ENOTFOUND' });
    expect(toWalauditError(dns, URL_WITH_PASSWORD).message).toContain('db.example:6543/shop');
  });

  it('reads the errno from an AggregateError (happy-eyeballs connect)', () => {
    const aggregate = Object.assign(new AggregateError([socketError('ECONNREFUSED', '::1'), socketError('ECONNREFUSED')], 'connect failed'), {});
    expect(toWalauditError(aggregate, URL_WITH_PASSWORD).code).toBe('PG_UNREACHABLE');
  });

  it('makes authentication failures permanent', () => {
    const error = toWalauditError(serverError('28P01', 'password authentication failed for user "alice"'), URL_WITH_PASSWORD);
    expect(error).toMatchObject({ code: 'PG_AUTH_FAILED', retriable: false });
    expect(toWalauditError(serverError('28000', 'no pg_hba.conf entry'), URL_WITH_PASSWORD).code).toBe('PG_AUTH_FAILED');
  });

  it('explains how to enable logical decoding', () => {
    const error = toWalauditError(serverError('55000', 'logical decoding requires wal_level >= logical'), URL_WITH_PASSWORD);
    expect(error.code).toBe('PG_WAL_LEVEL');
    expect(error.message).toContain('set wal_level = logical in postgresql.conf (ALTER SYSTEM SET wal_level = logical) and restart Postgres');
  });

  it('names a slot Postgres invalidated, and the next step, instead of a bare query failure', () => {
    const error = toWalauditError(serverError('55000', 'cannot read from logical replication slot "walaudit"', 'This slot has been invalidated because it exceeded the maximum reserved size.'), URL_WITH_PASSWORD);
    expect(error.code).toBe('PG_SLOT_LOST');
    expect(error.retriable).toBe(false);
    expect(error.message).toContain('replication slot walaudit was invalidated');
    expect(error.message).toContain('walaudit setup --recreate-lost-slot');
  });

  it('tells apart missing REPLICATION from other privileges', () => {
    const pg15 = toWalauditError(serverError('42501', 'must be superuser or replication role to use replication slots'), URL_WITH_PASSWORD);
    expect(pg15.code).toBe('PG_NO_REPLICATION');
    expect(pg15.message).toContain('ALTER ROLE alice REPLICATION');
    const pg16 = toWalauditError(
      serverError('42501', 'permission denied to use replication slots', 'Only roles with the REPLICATION attribute may use replication slots.'),
      { url: URL_WITH_PASSWORD, role: 'App User' },
    );
    expect(pg16.code).toBe('PG_NO_REPLICATION');
    expect(pg16.message).toContain('ALTER ROLE "App User" REPLICATION');
    expect(toWalauditError(serverError('42501', 'must be owner of table orders'), URL_WITH_PASSWORD).code).toBe('PG_PRIVILEGE');
  });

  it('names the PID that holds a slot', () => {
    const error = toWalauditError(serverError('55006', 'replication slot "walaudit" is active for PID 4242'), URL_WITH_PASSWORD);
    expect(error.code).toBe('PG_SLOT_IN_USE');
    expect(error.message).toContain('4242');
    expect(error.message).toContain('another walaudit (or another consumer) holds the slot');
  });

  it('points missing slots and publications to walaudit setup', () => {
    const slot = toWalauditError(serverError('42704', 'replication slot "walaudit" does not exist'), URL_WITH_PASSWORD);
    expect(slot.code).toBe('PG_SLOT_MISSING');
    expect(slot.message).toContain('walaudit setup');
    const publication = toWalauditError(serverError('42704', 'publication "walaudit" does not exist'), URL_WITH_PASSWORD);
    expect(publication.code).toBe('PG_PUBLICATION_MISSING');
  });

  it('keeps the cause, passes WalauditErrors through, and falls back to PG_QUERY_FAILED', () => {
    const cause = serverError('22P02', 'invalid input syntax for type integer: "x"');
    const error = toWalauditError(cause, { url: URL_WITH_PASSWORD, action: 'reading the catalog' });
    expect(error).toMatchObject({ code: 'PG_QUERY_FAILED', retriable: false, cause });
    expect(error.message).toContain('while reading the catalog');
    expect(toWalauditError(serverError('40P01', 'deadlock detected')).retriable).toBe(true);
    const own = new WalauditError('PG_TABLE_NOT_FOUND', 'x');
    expect(toWalauditError(own)).toBe(own);
    expect(toWalauditError(new Error('Connection terminated unexpectedly')).code).toBe('PG_UNREACHABLE');
  });
});
