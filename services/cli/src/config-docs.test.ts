import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema } from '@walaudit/core';

/** Every option declared in the schema must be documented in docs/configuration.md. */
function optionPaths(schema: unknown, prefix = ''): string[] {
  let node = schema as { def?: { type: string; innerType?: unknown; in?: unknown; element?: unknown; shape?: Record<string, unknown> } };
  // Unwrap defaults, optionals, prefaults and refinements down to the object or array.
  while (node.def && ['default', 'optional', 'prefault', 'pipe', 'nullable'].includes(node.def.type)) {
    node = (node.def.innerType ?? node.def.in) as typeof node;
  }
  if (node.def?.type === 'array' && node.def.element) {
    const element = node.def.element as typeof node;
    return optionPaths(element, `${prefix}[]`);
  }
  if (node.def?.type === 'object' && node.def.shape) {
    return Object.entries(node.def.shape).flatMap(([key, child]) => {
      const path = prefix ? `${prefix}.${key}` : key;
      const nested = optionPaths(child, path);
      return nested.length > 0 ? nested : [path];
    });
  }
  return [];
}

describe('docs/configuration.md', () => {
  const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const paths = optionPaths(configSchema);

  it('finds the options of the schema', () => {
    expect(paths).toContain('source.url');
    expect(paths).toContain('rules[].mask[].mode');
    expect(paths.length).toBeGreaterThan(20);
  });

  it.each(paths)('documents %s', (path) => {
    expect(doc).toContain(`\`${path}\``);
  });
});
