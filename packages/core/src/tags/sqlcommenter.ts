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
  const tags: Record<string, string> = Object.create(null) as Record<string, string>;
  let count = 0;
  let i = skipSpaces(comment, 0);
  if (i === comment.length) return {};
  for (;;) {
    const eq = comment.indexOf('=', i);
    if (eq < 0) return 'malformed';
    const rawKey = comment.slice(i, eq).trim();
    // A key is URL-encoded too: a bare quote, comma or space in it means this is no tag list.
    if (!/^(?:[^=,'\s\\]|\\.)+$/.test(rawKey) || comment[eq + 1] !== "'") return 'malformed';
    const key = urlDecode(rawKey.replace(/\\(.)/g, '$1'));
    if (key === null || key === '') return 'malformed';
    let j = eq + 2;
    let raw = '';
    for (;;) {
      if (j >= comment.length) return 'malformed';
      const c = comment[j]!;
      if (c === '\\' && j + 1 < comment.length) {
        raw += comment[j + 1];
        j += 2;
        continue;
      }
      if (c === "'") break;
      raw += c;
      j++;
    }
    const value = urlDecode(raw);
    if (value === null || Object.prototype.hasOwnProperty.call(tags, key)) return 'malformed';
    if (++count > maxCount) return 'too-many';
    tags[key] = value;
    j = skipSpaces(comment, j + 1);
    if (j === comment.length) break;
    if (comment[j] !== ',') return 'malformed';
    i = skipSpaces(comment, j + 1);
  }
  // A plain object again, so that it encodes and compares like any other.
  return { ...tags };
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

function skipSpaces(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i;
}

/** The URL decoding, once the `\'` escapes are undone. */
function urlDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}
