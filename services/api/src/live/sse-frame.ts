import { WalauditError } from '@walaudit/core';

/** Bigints (LSNs, xids) as decimal text, as in every other answer of the API. */
const json = (data: unknown) => JSON.stringify(data, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));

/**
 * One server-sent event (the WHATWG `text/event-stream` format): `event:` names it, each line of
 * the JSON payload is a `data:` line, a blank line ends it. JSON.stringify escapes newlines inside
 * strings, but the payload is split on line ends anyway, so no value can end the frame early or
 * forge a field.
 */
export function sseEvent(event: string, data: unknown): string {
  if (!/^[a-z][a-z0-9-]*$/.test(event)) throw new WalauditError('INTERNAL', `"${event}" is not a valid event name (lower case, digits and dashes)`);
  const lines = json(data).split(/\r\n|\r|\n/);
  return `event: ${event}\n${lines.map((line) => `data: ${line}\n`).join('')}\n`;
}

/** A comment line: clients ignore it, proxies see bytes flow (heartbeats). */
export function sseComment(text: string): string {
  return `${text.split(/\r\n|\r|\n/).map((line) => `: ${line}\n`).join('')}\n`;
}

/** One event as a client parses it back (tests, and anyone writing a client in TypeScript). */
export interface ParsedSseEvent {
  event: string;
  data: string;
}

/**
 * Splits a text/event-stream into its events, per the WHATWG parsing rules that matter here
 * (comments skipped, several `data:` lines joined by newlines, one optional space after the colon).
 * Returns the events complete so far and the unfinished rest, to feed again with the next chunk.
 */
export function parseSseChunk(buffered: string): { events: ParsedSseEvent[]; rest: string } {
  const events: ParsedSseEvent[] = [];
  const blocks = buffered.split(/\r\n\r\n|\n\n|\r\r/);
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split(/\r\n|\r|\n/)) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
  }
  return { events, rest };
}
