import { describe, expect, it } from 'vitest';
import { emptyRecord, formatSetupRecord, parseSetupRecord, recordSetup, resetIdentitySql } from './setup-record.js';

describe('the setup record', () => {
  it('round-trips through the schema comment and ignores a comment of someone else', () => {
    const record = recordSetup(emptyRecord(), { slot: 'walaudit', publication: 'walaudit' }, [{ schema: 'public', table: 'orders', was: 'default' }]);
    expect(parseSetupRecord(formatSetupRecord(record))).toEqual(record);
    expect(parseSetupRecord('schema of the audit tools')).toEqual(emptyRecord());
    expect(parseSetupRecord(null)).toEqual(emptyRecord());
  });

  it('adds an instance once and keeps the first identity a table had', () => {
    let record = recordSetup(emptyRecord(), { slot: 'a', publication: 'a' }, [{ schema: 'public', table: 'orders', was: 'nothing' }]);
    record = recordSetup(record, { slot: 'a', publication: 'a' }, [{ schema: 'public', table: 'orders', was: 'default' }]);
    record = recordSetup(record, { slot: 'b', publication: 'b' }, []);
    expect(record).toEqual({ instances: [{ slot: 'a', publication: 'a' }, { slot: 'b', publication: 'b' }], replicaIdentity: [{ schema: 'public', table: 'orders', was: 'nothing' }] });
  });

  it('resets to the identity before setup', () => {
    expect(resetIdentitySql({ schema: 'public', table: 'orders', was: 'default' })).toBe('ALTER TABLE "public"."orders" REPLICA IDENTITY DEFAULT');
    expect(resetIdentitySql({ schema: 's', table: 'T', was: 'index', index: 't_key' })).toBe('ALTER TABLE "s"."T" REPLICA IDENTITY USING INDEX "t_key"');
  });
});
