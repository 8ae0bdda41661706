import { describe, expect, it } from 'vitest';
import { logQuerySql } from './log-query.js';

describe('logQuerySql', () => {
  it('passes every filter value as a query parameter', () => {
    const { query, query_params } = logQuerySql('`w`.audit_log', { table: "x'; DROP", op: 'delete', since: '2025-01-01T00:00:00Z', xid: 7, limit: 5 });
    expect(query_params).toEqual({ table: "x'; DROP", op: 'delete', since: '2025-01-01T00:00:00Z', xid: '7' });
    expect(query).not.toContain('DROP');
    expect(query).toMatch(/ORDER BY lsn DESC, seq DESC\s+LIMIT 1 BY lsn, seq\s+LIMIT 5$/);
  });

  it('rejects values that are not what they claim', () => {
    expect(() => logQuerySql('t', { since: 'last tuesday', limit: 1 })).toThrow(/since/);
    expect(() => logQuerySql('t', { limit: -1 })).toThrow(/limit/);
    expect(() => logQuerySql('t', { xid: 1.5, limit: 1 })).toThrow(/xid/);
    expect(() => logQuerySql('t', { op: 'drop' as never, limit: 1 })).toThrow(/op/);
  });
});
