import { describe, expect, it } from 'vitest';
import type { InsertStep } from '@walaudit/core';
import { copyField, copySql } from './restore-copy.js';

describe('COPY text of a restore', () => {
  it('escapes what COPY text format reads specially, and keeps the rest as the WAL carried it', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField('\\N')).toBe('\\\\N');
    expect(copyField('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyField('')).toBe('');
    expect(copyField('{"a": "x"}')).toBe('{"a": "x"}');
    expect(copyField('\\.')).toBe('\\\\.');
  });

  it('names the columns of the step, quoted', () => {
    const step: InsertStep = {
      entryId: '1-0', schema: 'Sales', table: 'order lines', key: null, overridingSystemValue: true, newKey: false, followsNewKey: [],
      columns: [{ name: 'id', type: 'bigint' }, { name: 'Qty', type: 'integer' }],
      values: ['1', null],
    };
    expect(copySql(step)).toBe('COPY "Sales"."order lines" ("id", "Qty") FROM STDIN');
  });
});
