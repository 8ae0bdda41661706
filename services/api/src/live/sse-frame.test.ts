import { describe, expect, it } from 'vitest';
import { parseSseChunk, sseComment, sseEvent } from './sse-frame.js';

describe('server-sent event framing', () => {
  it('frames an event as event and data lines ended by a blank line, bigints as text', () => {
    expect(sseEvent('counters', { open: 2, lsn: 10n })).toBe('event: counters\ndata: {"open":2,"lsn":"10"}\n\n');
  });

  it('keeps a value with line breaks inside one data line: it cannot end the frame or forge a field', () => {
    const frame = sseEvent('alert', { note: 'one\n\nevent: forged\ndata: x\r\n' });
    expect(frame.split('\n').filter((line) => line.startsWith('event:'))).toEqual(['event: alert']);
    const { events, rest } = parseSseChunk(frame);
    expect(rest).toBe('');
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.data)).toEqual({ note: 'one\n\nevent: forged\ndata: x\r\n' });
  });

  it('refuses an event name that is not a plain word', () => {
    expect(() => sseEvent('alert\ndata: x', {})).toThrow(/not a valid event name/);
    expect(() => sseEvent('', {})).toThrow(/not a valid event name/);
  });

  it('writes comments that a client skips, one per line', () => {
    expect(sseComment('keep-alive')).toBe(': keep-alive\n\n');
    expect(sseComment('a\nb')).toBe(': a\n: b\n\n');
    expect(parseSseChunk(sseComment('a\nb')).events).toEqual([]);
  });

  it('parses events split across chunks, and several data lines joined', () => {
    const stream = `${sseComment('hi')}${sseEvent('counters', { a: 1 })}event: x\ndata: one\ndata:two\n\n`;
    const first = parseSseChunk(stream.slice(0, 20));
    expect(first.events).toEqual([]);
    const second = parseSseChunk(first.rest + stream.slice(20));
    expect(second.events).toEqual([{ event: 'counters', data: '{"a":1}' }, { event: 'x', data: 'one\ntwo' }]);
    expect(second.rest).toBe('');
  });
});
