import { lexQuery, trailingCommentOfEnd } from './sql-comment.js';

/**
 * sqlcommenter tags: the `key='value'` pairs ORMs and OpenTelemetry instrumentations append to a
 * statement as its final comment (`DELETE ... /*action='destroy',traceparent='00-...-01'*\/`).
 * Keys and values are URL-encoded, `'` inside them escaped as `\'`, and the pairs comma-separated.
 */

export interface TagLimits {
  /** Most pairs in one comment; a comment with more gives no tags. */
  maxCount: number;
  /** Longest comment, in characters; a longer one gives no tags. */
  maxLength: number;
}

export interface StatementTags {
  tags: Record<string, string>;
  /** From a valid `traceparent`: 32 lower-case hex digits. */
  traceId?: string;
  /** From a valid `traceparent`: 16 lower-case hex digits. */
  spanId?: string;
}

/** Why a statement's comment gave no tags (null from statementTags carries no reason). */
export type TagsRefusal = 'several-statements' | 'malformed' | 'too-many' | 'too-long';

export type TagsOutcome = { tags: StatementTags } | { none: TagsRefusal | 'no-comment' };

/** The text a statement trigger recorded: the statement, and its end when the statement was cut. */
export interface RecordedStatement {
  statement: string;
  /** The statement's last characters, sent only when `statement` holds just its beginning. */
  statementEnd?: string | null;
}

/** The tags of one recorded statement, or why there are none. Never throws. */
export function readStatementTags(recorded: RecordedStatement, limits: TagLimits): TagsOutcome {
  const head = lexQuery(typeof recorded.statement === 'string' ? recorded.statement : '');
  // Which statement of several a trigger fired for cannot be told: none gets the last one's tags.
  if (head.statements > 1) return { none: 'several-statements' };
  const end = recorded.statementEnd;
  const comment = typeof end === 'string' && end !== '' ? trailingCommentOfEnd(end) : head.complete ? head.trailingComment : null;
  if (comment === null) return { none: 'no-comment' };
  if (comment.length > limits.maxLength) return { none: 'too-long' };
  const parsed = parseTagList(comment, limits.maxCount);
  if (typeof parsed === 'string') return { none: parsed };
  if (Object.keys(parsed).length === 0) return { none: 'no-comment' };
  const result: StatementTags = { tags: parsed };
  const trace = parseTraceparent(parsed.traceparent);
  if (trace) {
    result.traceId = trace.traceId;
    result.spanId = trace.spanId;
  }
  return { tags: result };
}

/**
 * `key='value',key2='value2'` (whitespace around pairs allowed; an empty comment gives {}).
 * Anything else, a repeated key, or a key or value that is not valid URL encoding: 'malformed'.
 */
export function parseTagList(comment: string, maxCount: number): Record<string, string> | 'malformed' | 'too-many' {
  const tags = new Map<string, string>();
  if (/^\s*$/.test(comment)) return {};
  // One pair and what follows it: a comma, or the end. A key is URL-encoded too, so a bare quote,
  // comma or space in it means this is no tag list; `\'` (or any `\x`) is an escaped character.
  const pair = /\s*((?:[^=,'\s\\]|\\.)+)\s*='((?:[^'\\]|\\.)*)'\s*(,|$)/y;
  let i = 0;
  for (;;) {
    pair.lastIndex = i;
    const match = pair.exec(comment);
    if (!match) return 'malformed';
    const key = urlDecode(unescape(match[1]!));
    const value = urlDecode(unescape(match[2]!));
    if (key === null || key === '' || value === null || tags.has(key)) return 'malformed';
    if (tags.size === maxCount) return 'too-many';
    tags.set(key, value);
    if (match[3] === '') break;
    i = pair.lastIndex;
  }
  // A plain object; a key such as __proto__ stays an ordinary member.
  const out: Record<string, string> = {};
  for (const [key, value] of tags) {
    if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}

/** `\'` (and any backslash-escaped character) to the character itself. */
function unescape(text: string): string {
  return text.includes('\\') ? text.replace(/\\(.)/g, '$1') : text;
}

/** W3C trace context `traceparent`, version 00: `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. */
export function parseTraceparent(value: string | undefined): { traceId: string; spanId: string } | null {
  if (value === undefined) return null;
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(value);
  if (!match) return null;
  const [, traceId, spanId] = match as unknown as [string, string, string];
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return null;
  return { traceId, spanId };
}

/** The URL decoding, once the `\'` escapes are undone. */
function urlDecode(text: string): string | null {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}
