/**
 * Splits a migration file into statements: ClickHouse over HTTP runs one statement per request.
 * Semicolons inside '...' strings, `...` or "..." identifiers and -- comments do not split.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let quote: string | null = null;
  for (let i = 0; i < sql.length; i++) {
    const char = sql[i]!;
    if (quote) {
      current += char;
      if (char === '\\') current += sql[++i] ?? '';
      else if (char === quote) quote = null;
      continue;
    }
    if (char === '-' && sql[i + 1] === '-') {
      // Drop the comment up to the end of the line; it is not sent to the server.
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end - 1;
      continue;
    }
    if (char === "'" || char === '`' || char === '"') quote = char;
    if (char === ';') {
      pushStatement(statements, current);
      current = '';
      continue;
    }
    current += char;
  }
  pushStatement(statements, current);
  return statements;
}

function pushStatement(statements: string[], text: string): void {
  const trimmed = text.trim();
  if (trimmed !== '') statements.push(trimmed);
}
