/**
 * Every type the pipeline round-trips losslessly, with values that test the edges: column name,
 * Postgres type, values. The pipeline test stores them; the restore test puts them back. The
 * enum `mood`, the domain `posint` and the composite `pair` must exist (TYPE_COLUMNS_DDL).
 */
export const TYPE_COLUMNS_DDL = `
  CREATE TYPE mood AS ENUM ('happy', 'sad');
  CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
  CREATE TYPE pair AS (a integer, b text);`;

export const TYPE_COLUMNS: [string, string, string[]][] = [
  ['c_int2', 'smallint', ['-32768', '32767']],
  ['c_int4', 'integer', ['-2147483648', '42']],
  ['c_int8', 'bigint', ['9223372036854775807', '-1']],
  ['c_numeric', 'numeric(20,6)', ['12345678901234.123456', '-0.000001']],
  ['c_real', 'real', ['NaN', 'Infinity', '-Infinity', '1.5']],
  ['c_double', 'double precision', ['0.1', 'NaN', '-Infinity', '1e-300']],
  ['c_text', 'text', ['héllo wörld ✓ 日本語 🎉', 'tab\there\nnew line \\ backslash "quote"']],
  ['c_bytea', 'bytea', ['\\x00ff10', '\\x']],
  ['c_bool', 'boolean', ['true', 'false']],
  ['c_date', 'date', ['2024-02-29', 'infinity']],
  ['c_ts', 'timestamp', ['2024-01-02 03:04:05.123456', '1999-12-31 23:59:59']],
  ['c_tstz', 'timestamptz', ['2024-01-02 03:04:05.654321+00', '2000-01-01 00:00:00.000001+05:30']],
  ['c_interval', 'interval', ['1 year 2 mons 3 days 04:05:06.789', '-00:00:01']],
  ['c_uuid', 'uuid', ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '00000000-0000-0000-0000-000000000000']],
  ['c_json', 'json', ['{"b": 1,  "a": [1, 2]}', '"just a string"']],
  ['c_jsonb', 'jsonb', ['{"b": 1, "a": {"nested": [true, null]}}', '[]']],
  ['c_int_arr', 'integer[]', ['{1,NULL,3}', '{}']],
  ['c_text_2d', 'text[]', ['{{a,"b c"},{NULL,"d\\"e"}}', '{x}']],
  ['c_mood', 'mood', ['happy', 'sad']],
  ['c_posint', 'posint', ['7', '1']],
  ['c_pair', 'pair', ['(1,"two words")', '(,)']],
  ['c_money', 'money', ['$1,234.56', '-$0.01']],
  ['c_inet', 'inet', ['10.1.2.3', '2001:db8::1/64']],
  ['c_cidr', 'cidr', ['192.168.0.0/16', '2001:db8::/32']],
];
