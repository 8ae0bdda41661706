import { describe, expect, it } from 'vitest';
import { splitStatements } from './sql-statements.js';

describe('splitStatements', () => {
  it('splits on semicolons outside strings, identifiers and comments', () => {
    const sql = `-- a comment; not a split
CREATE TABLE t (a String COMMENT 'x; y', \`b;c\` UInt8 COMMENT 'it''s; fine');
-- trailing comment
SELECT 'a\\'; b';
`;
    expect(splitStatements(sql)).toEqual([
      "CREATE TABLE t (a String COMMENT 'x; y', `b;c` UInt8 COMMENT 'it''s; fine')",
      "SELECT 'a\\'; b'",
    ]);
  });

  it('returns nothing for a file of comments', () => {
    expect(splitStatements('-- only\n-- comments\n')).toEqual([]);
  });
});
