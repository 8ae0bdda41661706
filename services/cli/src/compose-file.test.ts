import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configOptions, parseConfig } from '@walaudit/core';
import { ENV_ALIASES, loadConfig } from './config-loader.js';

/** docker-compose.yml must stay in step with the config schema: no name the schema does not know. */
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(new URL('../../../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as {
    services: Record<string, { environment?: Record<string, string>; command?: string[] }>;
  };
  const known = new Set([...configOptions().map((option) => option.envName), ...Object.values(ENV_ALIASES), 'WALAUDIT_MODE', 'WALAUDIT_SERVICES']);
  const walauditServices = Object.entries(compose.services).filter(([name]) => name.startsWith('walaudit-'));

  it('runs the reader, the writers, the restore worker and setup', () => {
    expect(walauditServices.map(([name]) => name).sort()).toEqual(['walaudit-reader', 'walaudit-restorer', 'walaudit-setup', 'walaudit-writer']);
  });

  it('shares the alert windows and the restore queue in its Redis, as more than one writer needs', () => {
    const config = loadConfig({}, compose.services['walaudit-writer']!.environment ?? {});
    expect(config.alerts).toMatchObject({ windowStore: 'redis', redisUrl: 'redis://redis:6379' });
    expect(config.cascade.redisUrl).toBe('redis://redis:6379');
    expect(compose.services.redis).toBeDefined();
  });

  it.each(walauditServices)('%s uses only known environment names, and they validate', (_, service) => {
    const env = service.environment ?? {};
    for (const name of Object.keys(env)) if (name.startsWith('WALAUDIT_')) expect(known, name).toContain(name);
    const config = loadConfig({}, env);
    expect(config.kafka.brokers).toEqual(['kafka:9092']);
    expect(config.store.url).toBe('http://clickhouse:8123');
    expect(() => parseConfig(config)).not.toThrow();
  });
});
