import { describe, expect, it } from 'vitest';
import { lexQuery, trailingCommentOfEnd } from './sql-comment.js';
import { parseTagList, parseTraceparent, readStatementTags, type TagsOutcome } from './sqlcommenter.js';

const limits = { maxCount: 32, maxLength: 2048 };
const TRACEPARENT = '00-5bd66ef5095369c7b0d1f8f4bd33716a-c532cb4098ac3dd2-01';
const tagsOf = (statement: string, statementEnd?: string): TagsOutcome => readStatementTags({ statement, statementEnd }, limits);

describe('readStatementTags', () => {
  it('reads the spec example: URL-decoded keys and values, the trace split out', () => {
    const statement = `SELECT * FROM FOO /*action='%2Fparam*d',controller='index',framework='spring',traceparent='${TRACEPARENT}',tracestate='congo%3Dt61rcWkgMzE%2Crojo%3D00f067aa0ba902b7'*/`;
    expect(tagsOf(statement)).toEqual({
      tags: {
        tags: { action: '/param*d', controller: 'index', framework: 'spring', traceparent: TRACEPARENT, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' },
        traceId: '5bd66ef5095369c7b0d1f8f4bd33716a',
        spanId: 'c532cb4098ac3dd2',
      },
    });
  });

  it('takes a trailing semicolon, whitespace and spaces inside the comment', () => {
    expect(tagsOf(`DELETE FROM users WHERE id = 1 /* user='alice', route='%2Fusers%2F%3Aid' */ ;\n`)).toEqual({ tags: { tags: { user: 'alice', route: '/users/:id' } } });
  });

  it("unescapes \\' in values and keys", () => {
    expect(tagsOf(String.raw`DELETE FROM t /*note='it\'s',it\'s='x'*/`)).toEqual({ tags: { tags: { note: "it's", "it's": 'x' } } });
  });

  it('reads nothing from a statement without a comment or with a comment that is not last', () => {
    expect(tagsOf('DELETE FROM t WHERE id = 1')).toEqual({ none: 'no-comment' });
    expect(tagsOf("DELETE FROM t /*user='alice'*/ WHERE id = 1")).toEqual({ none: 'no-comment' });
    expect(tagsOf("DELETE FROM t /*user='alice'*/ -- later note")).toEqual({ none: 'no-comment' });
  });

  it('never reads tags out of a string literal', () => {
    expect(tagsOf("UPDATE t SET note = '/*user=''admin''*/'")).toEqual({ none: 'no-comment' });
    expect(tagsOf("UPDATE t SET note = 'x' || ' /*user=''admin''*/'")).toEqual({ none: 'no-comment' });
    expect(tagsOf(String.raw`UPDATE t SET note = E'\' /*user=\'admin\'*/'`)).toEqual({ none: 'no-comment' });
    expect(tagsOf("UPDATE t SET note = $q$ /*user='admin'*/ $q$")).toEqual({ none: 'no-comment' });
    expect(tagsOf('UPDATE "/*user=\'admin\'*/" SET a = 1')).toEqual({ none: 'no-comment' });
    // The literal's own comment-lookalike is skipped; the real comment after it counts.
    expect(tagsOf("UPDATE t SET note = '/*user=''admin''*/' /*user='bob'*/")).toEqual({ tags: { tags: { user: 'bob' } } });
  });

  it('never reads tags out of a line comment or a nested comment', () => {
    expect(tagsOf("DELETE FROM t -- /*user='admin'*/")).toEqual({ none: 'no-comment' });
    expect(tagsOf("DELETE FROM t /* outer /*user='admin'*/ */")).toEqual({ none: 'no-comment' });
  });

  it('gives nothing for a comment that ends early or a string left open (unbalanced quotes)', () => {
    expect(tagsOf("DELETE FROM t /*user='a*/b'*/")).toEqual({ none: 'no-comment' });
    expect(tagsOf("DELETE FROM t WHERE a = 'x /*user='admin'*/")).toEqual({ none: 'no-comment' });
    expect(tagsOf("DELETE FROM t /*user='alice*/")).toEqual({ none: 'malformed' });
    expect(tagsOf("DELETE FROM t /*user=alice'*/")).toEqual({ none: 'malformed' });
    expect(tagsOf("DELETE FROM t /*user='alice''*/")).toEqual({ none: 'malformed' });
    expect(tagsOf("DELETE FROM t /*user='alice' route='x'*/")).toEqual({ none: 'malformed' });
    expect(tagsOf('DELETE FROM t /*user*/')).toEqual({ none: 'malformed' });
    expect(tagsOf('DELETE FROM t /* unterminated')).toEqual({ none: 'no-comment' });
  });

  it('refuses a repeated key (which one would win?) and bad URL encoding', () => {
    expect(tagsOf("DELETE FROM t /*user='alice',user='admin'*/")).toEqual({ none: 'malformed' });
    expect(tagsOf("DELETE FROM t /*user='%E0%A4%A'*/")).toEqual({ none: 'malformed' });
  });

  it('does not lend one statement of a query string the comment of another', () => {
    expect(tagsOf("DELETE FROM a WHERE id = 1; DELETE FROM b WHERE id = 2 /*user='bob'*/")).toEqual({ none: 'several-statements' });
    expect(tagsOf("DELETE FROM a /*user='alice'*/; DELETE FROM b")).toEqual({ none: 'several-statements' });
    // A semicolon inside a literal or comment does not split.
    expect(tagsOf("DELETE FROM a WHERE note = ';x' /* ; */ /*user='carol'*/;")).toEqual({ tags: { tags: { user: 'carol' } } });
  });

  it('bounds the count and the size', () => {
    const many = Array.from({ length: 33 }, (_, i) => `k${i}='v'`).join(',');
    expect(tagsOf(`DELETE FROM t /*${many}*/`)).toEqual({ none: 'too-many' });
    const megabyte = `DELETE FROM t /*user='${'a'.repeat(1024 * 1024)}'*/`;
    expect(tagsOf(megabyte)).toEqual({ none: 'too-long' });
    const megabyteOfPairs = `DELETE FROM t /*${Array.from({ length: 100_000 }, (_, i) => `k${i}='v'`).join(',')}*/`;
    expect(readStatementTags({ statement: megabyteOfPairs }, { maxCount: 32, maxLength: 4 * 1024 * 1024 })).toEqual({ none: 'too-many' });
  });

  it('reads the end of a statement too long to be recorded whole', () => {
    const head = `DELETE FROM t WHERE id IN (${'1,'.repeat(3000)}`;
    expect(tagsOf(head, `${'2,'.repeat(100)}3) /*user='dave',traceparent='${TRACEPARENT}'*/`)).toEqual({
      tags: { tags: { user: 'dave', traceparent: TRACEPARENT }, traceId: '5bd66ef5095369c7b0d1f8f4bd33716a', spanId: 'c532cb4098ac3dd2' },
    });
    expect(tagsOf(head, "3) -- /*user='dave'*/")).toEqual({ none: 'no-comment' });
    expect(tagsOf(head, "3) /* /*user='dave'*/ */")).toEqual({ none: 'no-comment' });
    // The recorded beginning already shows two statements.
    expect(tagsOf(`DELETE FROM a; ${head}`, "3) /*user='dave'*/")).toEqual({ none: 'several-statements' });
  });

  it('survives anything', () => {
    const alphabet = ["'", '"', '/*', '*/', '--', '$$', '$a$', ';', '\\', 'E', '=', ',', 'x', ' ', '\n', '%', '%zz'];
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let n = 0; n < 2_000; n++) {
      const text = Array.from({ length: 1 + Math.floor(next() * 40) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
      expect(() => tagsOf(text)).not.toThrow();
      expect(() => tagsOf('x', text)).not.toThrow();
    }
  });
});

describe('parseTagList', () => {
  it('gives {} for an empty or blank comment', () => {
    expect(parseTagList('  ', 32)).toEqual({});
  });

  it('keeps a key named __proto__ as a plain member', () => {
    const tags = parseTagList("__proto__='x'", 32);
    expect(tags).toEqual({ ['__proto__']: 'x' });
    expect(Object.getPrototypeOf(tags)).toBe(Object.prototype);
  });
});

describe('parseTraceparent', () => {
  it('splits a version 00 traceparent', () => {
    expect(parseTraceparent(TRACEPARENT)).toEqual({ traceId: '5bd66ef5095369c7b0d1f8f4bd33716a', spanId: 'c532cb4098ac3dd2' });
  });

  it.each([
    ['another version', '01-5bd66ef5095369c7b0d1f8f4bd33716a-c532cb4098ac3dd2-01'],
    ['upper-case hex', '00-5BD66EF5095369C7B0D1F8F4BD33716A-c532cb4098ac3dd2-01'],
    ['a short trace id', '00-5bd66ef5095369c7b0d1f8f4bd3371-c532cb4098ac3dd2-01'],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-c532cb4098ac3dd2-01`],
    ['an all-zero span id', `00-5bd66ef5095369c7b0d1f8f4bd33716a-${'0'.repeat(16)}-01`],
    ['something more at the end', `${TRACEPARENT}-00`],
  ])('refuses %s', (_, value) => {
    expect(parseTraceparent(value)).toBeNull();
  });
});

describe('lexQuery and trailingCommentOfEnd', () => {
  it('counts statements and finds the final comment', () => {
    expect(lexQuery("SELECT 1; SELECT $$;$$ /*a='b'*/ ;")).toEqual({ statements: 2, trailingComment: "a='b'", complete: true });
    expect(lexQuery('SELECT $1 /*x*/')).toEqual({ statements: 1, trailingComment: 'x', complete: true });
    expect(lexQuery("SELECT 'open")).toMatchObject({ complete: false });
  });

  it('reads the end of a statement from its last opening', () => {
    expect(trailingCommentOfEnd("… '/*' || x /*a='b'*/\n")).toBe("a='b'");
    expect(trailingCommentOfEnd('x /*/')).toBeNull();
    expect(trailingCommentOfEnd('x */')).toBeNull();
  });
});
