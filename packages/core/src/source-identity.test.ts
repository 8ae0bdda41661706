import { describe, expect, it } from 'vitest';
import { sourceMismatch } from './source-identity.js';

describe('sourceMismatch', () => {
  const shop = { systemId: '7711873443745576344', database: 'shop' };

  it('accepts a store with no source yet, and the same source again', () => {
    expect(sourceMismatch(null, shop, 'the store')).toBeNull();
    expect(sourceMismatch({ ...shop }, shop, 'the store')).toBeNull();
  });

  it('refuses another database of the same server, and the same name on another server, naming both', () => {
    for (const other of [{ ...shop, database: 'billing' }, { ...shop, systemId: '7000000000000000001' }]) {
      const error = sourceMismatch(shop, other, 'the embedded store at /data');
      expect(error?.code).toBe('STORE_OTHER_SOURCE');
      expect(error?.retriable).toBe(false);
      expect(error?.message).toContain('the embedded store at /data holds the audit trail of database "shop"');
      expect(error?.message).toContain(other.systemId);
      expect(error?.message).toContain(`"${other.database}"`);
    }
  });
});
