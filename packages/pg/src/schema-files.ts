import { readFileSync } from 'node:fs';

/**
 * The Postgres SQL walaudit runs lives in schemas/postgres/ as the documented contract, and is read
 * from there at run time so no copy of it can drift. The path is the same from src/ and dist/.
 */
const SCHEMAS_DIR = new URL('../../../schemas/postgres/', import.meta.url);

const cache = new Map<string, string>();

export function readSchemaSql(fileName: string): string {
  let text = cache.get(fileName);
  if (text === undefined) {
    text = readFileSync(new URL(fileName, SCHEMAS_DIR), 'utf8');
    cache.set(fileName, text);
  }
  return text;
}

/** The text between the first pair of `$tag$` quotes: what Postgres stores as the function's prosrc. */
export function dollarQuotedBody(sql: string): string | undefined {
  const match = /\$([A-Za-z_]*)\$([\s\S]*?)\$\1\$/.exec(sql);
  return match?.[2];
}
