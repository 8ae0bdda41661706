import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config-loader.js';

function configFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'walaudit-config-')), 'walaudit.yaml');
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('takes defaults when nothing is given', () => {
    const config = loadConfig({ config: configFile('') }, {});
    expect(config.source.url).toBeUndefined();
    expect(config.store.dataDir).toBe('.walaudit/data');
    expect(config.http.port).toBe(7433);
  });

  it('layers file, then environment, then flags', () => {
    const file = configFile('source:\n  url: postgres://file/db\n  slot: from_file\nhttp:\n  port: 9000\nstore:\n  dataDir: /from/file\n');
    const env = { DATABASE_URL: 'postgres://env/db', WALAUDIT_HTTP_PORT: '9100', WALAUDIT_TABLES: 'public.a, b' };
    const config = loadConfig({ config: file, httpPort: '9200' }, env);
    expect(config.source.url).toBe('postgres://env/db');
    expect(config.source.slot).toBe('from_file');
    expect(config.source.tables).toEqual(['public.a', 'b']);
    expect(config.store.dataDir).toBe('/from/file');
    expect(config.http.port).toBe(9200);
  });

  it('reads WALAUDIT_DATA_DIR, WALAUDIT_CLICKHOUSE_URL and WALAUDIT_MASK_KEY', () => {
    const config = loadConfig({ config: configFile('') }, { WALAUDIT_DATA_DIR: '/var/lib/walaudit', WALAUDIT_CLICKHOUSE_URL: 'http://ch:8123', WALAUDIT_MASK_KEY: 'k' });
    expect(config.store).toMatchObject({ dataDir: '/var/lib/walaudit', url: 'http://ch:8123' });
    expect(config.masking.hashKey).toBe('k');
  });

  it('names the key when an environment variable holds a bad value', () => {
    expect(() => loadConfig({ config: configFile('') }, { WALAUDIT_HTTP_PORT: 'eighty' })).toThrow(/"http\.port"/);
  });

  it('says which file is missing or is not YAML', () => {
    expect(() => loadConfig({ config: '/no/such/walaudit.yaml' }, {})).toThrow(/cannot read config file \/no\/such\/walaudit\.yaml/);
    expect(() => loadConfig({ config: configFile('rules: [') }, {})).toThrow(/not valid YAML/);
    expect(() => loadConfig({ config: configFile('- a list') }, {})).toThrow(/mapping at the top level/);
  });

  it('reads every option from its long environment name, the long name winning over the alias', () => {
    const config = loadConfig(
      { config: configFile('') },
      { WALAUDIT_PIPELINE_BATCH_SIZE: '500', WALAUDIT_RETENTION_DEFAULT_DAYS: '0', WALAUDIT_STORE_DATA_DIR: '/long', WALAUDIT_DATA_DIR: '/short', WALAUDIT_SOURCE_TABLES: 'x,y' },
    );
    expect(config.pipeline.batchSize).toBe(500);
    expect(config.retention.defaultDays).toBe(0);
    expect(config.store.dataDir).toBe('/long');
    expect(config.source.tables).toEqual(['x', 'y']);
  });
});
