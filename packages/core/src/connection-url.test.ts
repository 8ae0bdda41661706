import { describe, expect, it } from 'vitest';
import { connectionUrlProblem, redactUrl } from './connection-url.js';

const PG = ['postgres', 'postgresql'];
const EXAMPLE = 'postgres://user@host:5432/db';

describe('connectionUrlProblem', () => {
  it('accepts usable URLs', () => {
    expect(connectionUrlProblem('postgres://admin:secret@db.example:5432/shop?sslmode=require', PG, EXAMPLE)).toBeNull();
    expect(connectionUrlProblem('postgresql://localhost/shop', PG, EXAMPLE)).toBeNull();
  });

  it('names an out-of-range port instead of "Invalid URL"', () => {
    expect(connectionUrlProblem('postgres://u@127.0.0.1:99999/db', PG, EXAMPLE)).toBe('port 99999 is out of range (1 to 65535), expected e.g. postgres://user@host:5432/db');
    expect(connectionUrlProblem('postgres://u@127.0.0.1:0/db', PG, EXAMPLE)).toMatch(/^port 0 is out of range/);
  });

  it('names a wrong scheme and a string that is no URL', () => {
    expect(connectionUrlProblem('http://db:5432/shop', PG, EXAMPLE)).toMatch(/^scheme "http:" is not one of postgres:, postgresql:/);
    expect(connectionUrlProblem('host=db dbname=shop', PG, EXAMPLE)).toBe('not a URL, expected e.g. postgres://user@host:5432/db');
  });
});

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('postgres://admin:s3cr3t@db:5432/shop')).toBe('postgres://admin:***@db:5432/shop');
    expect(redactUrl('redis://:pw@cache:6379')).toBe('redis://:***@cache:6379');
    expect(redactUrl('postgres://admin@db/shop')).toBe('postgres://admin@db/shop');
  });
});
