import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { auditRuleSchema, configOptions } from '@walaudit/core';
import { ENV_ALIASES } from './config-loader.js';

/** Every option the schema declares, and every environment name, must be in docs/configuration.md. */
describe('docs/configuration.md', () => {
  const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const options = configOptions();
  const ruleKeys = Object.keys(auditRuleSchema.shape).map((key) => `rules[].${key}`);
  const maskKeys = Object.keys(auditRuleSchema.shape.mask.unwrap().element.shape).map((key) => `rules[].mask[].${key}`);

  it('finds the options of the schema', () => {
    expect(options.map((option) => option.path.join('.'))).toContain('pipeline.batchSize');
    expect(options.length).toBeGreaterThan(15);
    expect(maskKeys).toEqual(['rules[].mask[].column', 'rules[].mask[].mode']);
  });

  it.each([...options.map((option) => option.path.join('.')), ...ruleKeys, ...maskKeys])('documents %s', (path) => {
    expect(doc).toContain(`\`${path}\``);
  });

  it.each([...options.map((option) => option.envName), ...Object.values(ENV_ALIASES)])('documents the environment variable %s', (name) => {
    expect(doc).toContain(`\`${name}\``);
  });
});
