/**
 * Finding the comment a statement ends with, as Postgres' own lexer would see it: string literals
 * ('', E'' with backslash escapes, dollar quotes), quoted identifiers, `--` line comments and
 * nested block comments are skipped, so text that only looks like a comment is never taken for one.
 */

/** What the lexer saw of a query string. */
export interface QueryShape {
  /** Statements holding code (top-level `;` separate them); a trailing empty one does not count. */
  statements: number;
  /**
   * The inside of the block comment the text ends with (only whitespace and `;` after it), when
   * that comment holds no nested comment; null otherwise.
   */
  trailingComment: string | null;
  /** False when the text ends inside a literal, identifier or comment (cut, or not valid SQL). */
  complete: boolean;
}

/** Characters that may start a literal, a comment or a statement, or end a trailing comment's run. */
const SPECIAL = new Set([..."'\";$-/"].map((c) => c.charCodeAt(0)));

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
const isIdentStart = (c: string): boolean => /[A-Za-z_\u0080-\uffff]/.test(c);
const isIdentChar = (c: string): boolean => /[A-Za-z0-9_$\u0080-\uffff]/.test(c);

/** The tag of a dollar quote opening at `i` (`$$` gives ''), or null when `$` starts none there. */
function dollarTag(text: string, i: number): string | null {
  if (i > 0 && isIdentChar(text[i - 1]!)) return null; // `a$b` is one identifier
  let j = i + 1;
  if (j < text.length && text[j] !== '$') {
    if (!isIdentStart(text[j]!)) return null; // `$1` is a parameter
    while (j < text.length && text[j] !== '$' && isIdentChar(text[j]!)) j++;
  }
  return text[j] === '$' ? text.slice(i, j + 1) : null;
}

/** Index just past a quoted run opened at `i` by `quote`, or -1 when it never closes. */
function skipQuoted(text: string, i: number, quote: string, backslashEscapes: boolean): number {
  let j = i + 1;
  while (j < text.length) {
    const c = text[j]!;
    if (backslashEscapes && c === '\\') {
      j += 2;
      continue;
    }
    if (c === quote) {
      if (text[j + 1] === quote) {
        j += 2; // a doubled quote stands for itself
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return -1;
}

/** Reads `text` once, left to right. Linear in its length whatever it holds. */
export function lexQuery(text: string): QueryShape {
  let statements = 0;
  let codeInStatement = false;
  /** The last block comment at top level: its inside, or null when it nested another. */
  let lastComment: { body: string | null } | null = null;
  let i = 0;
  const code = () => {
    if (!codeInStatement) statements++;
    codeInStatement = true;
    lastComment = null;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === ';') {
      codeInStatement = false;
      i++;
      continue;
    }
    if (c === '-' && text[i + 1] === '-') {
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
      lastComment = null; // a line comment after the block comment: it no longer ends the text
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      let depth = 1;
      let nested = false;
      let j = i + 2;
      while (j < text.length && depth > 0) {
        if (text[j] === '/' && text[j + 1] === '*') {
          depth++;
          nested = true;
          j += 2;
        } else if (text[j] === '*' && text[j + 1] === '/') {
          depth--;
          j += 2;
        } else j++;
      }
      if (depth > 0) return { statements, trailingComment: null, complete: false };
      lastComment = { body: nested ? null : text.slice(i + 2, j - 2) };
      i = j;
      continue;
    }
    if (c === "'" || c === '"') {
      // E'...' (any case, not the end of a longer identifier) takes backslash escapes.
      const escapes = c === "'" && i > 0 && (text[i - 1] === 'E' || text[i - 1] === 'e') && (i < 2 || !isIdentChar(text[i - 2]!));
      code();
      const end = skipQuoted(text, i, c, escapes);
      if (end < 0) return { statements, trailingComment: null, complete: false };
      i = end;
      continue;
    }
    if (c === '$') {
      const tag = dollarTag(text, i);
      code();
      if (tag !== null) {
        const end = text.indexOf(tag, i + tag.length);
        if (end < 0) return { statements, trailingComment: null, complete: false };
        i = end + tag.length;
        continue;
      }
      i++;
      continue;
    }
    code();
    // The rest of a run of plain code changes nothing: skip it at once.
    i++;
    while (i < text.length && !SPECIAL.has(text.charCodeAt(i))) i++;
  }
  const last = lastComment as { body: string | null } | null;
  return { statements, trailingComment: last?.body ?? null, complete: true };
}

/**
 * The trailing comment of the last part of a statement too long to be captured whole. Without
 * the start, literals cannot be followed; what holds instead: the statement ran, so every
 * literal and comment in it was closed, and a text ending in `*` `/` ends a block comment whose
 * opening is the last `/*` before it (an inner one would have needed a second `*` `/`). A `--`
 * earlier on the opening's line could make the whole comment part of a line comment: then none
 * is taken.
 */
export function trailingCommentOfEnd(end: string): string | null {
  let stop = end.length;
  while (stop > 0 && (isSpace(end[stop - 1]!) || end[stop - 1] === ';')) stop--;
  if (stop < 4 || end[stop - 1] !== '/' || end[stop - 2] !== '*') return null;
  const close = stop - 2;
  const open = end.lastIndexOf('/*', close - 2);
  if (open < 0) return null;
  const body = end.slice(open + 2, close);
  if (body.includes('*/')) return null;
  const lineStart = Math.max(end.lastIndexOf('\n', open), end.lastIndexOf('\r', open)) + 1;
  if (end.slice(lineStart, open).includes('--')) return null;
  return body;
}
