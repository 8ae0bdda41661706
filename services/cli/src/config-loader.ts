import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configOptions, parseConfig, WalauditError, type ConfigOptionKind, type WalauditConfig } from '@walaudit/core';

/** Flags every command shares; each overrides the file and the environment. */
export interface CommonFlags {
  config?: string;
  source?: string;
  dataDir?: string;
  httpPort?: string;
  token?: string;
  clickhouseUrl?: string;
  slot?: string;
  publication?: string;
  tables?: string;
}

const DEFAULT_CONFIG_FILE = 'walaudit.yaml';

/** Short environment names for the options people set most; each option's long name works too. */
export const ENV_ALIASES: Readonly<Record<string, string>> = {
  'source.url': 'DATABASE_URL',
  'source.slot': 'WALAUDIT_SLOT',
  'source.publication': 'WALAUDIT_PUBLICATION',
  'source.tables': 'WALAUDIT_TABLES',
  'store.url': 'WALAUDIT_CLICKHOUSE_URL',
  'store.dataDir': 'WALAUDIT_DATA_DIR',
  'masking.hashKey': 'WALAUDIT_MASK_KEY',
  'http.token': 'WALAUDIT_TOKEN',
  'checkpoints.key': 'WALAUDIT_SIGNING_KEY',
};

/**
 * Defaults, then the YAML file (--config, WALAUDIT_CONFIG, or ./walaudit.yaml when present), then
 * the environment, then flags. The merged object is validated once, naming any bad key.
 */
export function loadConfig(flags: CommonFlags, env: NodeJS.ProcessEnv = process.env): WalauditConfig {
  const file = flags.config ?? env.WALAUDIT_CONFIG ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const input = file ? readConfigFile(file) : {};
  for (const option of configOptions()) {
    // The long name (WALAUDIT_PIPELINE_BATCH_SIZE) exists for every option; a few have a short alias too.
    const alias = ENV_ALIASES[option.path.join('.')];
    const text = env[option.envName] ?? (alias ? env[alias] : undefined);
    overlay(input, option.path, fromText(text, option.kind));
  }
  overlay(input, ['source', 'url'], flags.source);
  overlay(input, ['source', 'slot'], flags.slot);
  overlay(input, ['source', 'publication'], flags.publication);
  overlay(input, ['source', 'tables'], splitList(flags.tables));
  overlay(input, ['store', 'dataDir'], flags.dataDir);
  overlay(input, ['store', 'url'], flags.clickhouseUrl);
  overlay(input, ['http', 'port'], toNumber(flags.httpPort));
  overlay(input, ['http', 'token'], flags.token);
  const origin = file ? `the configuration (${file}, environment and flags)` : 'the configuration (environment and flags)';
  return parseConfig(input, origin);
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new WalauditError('CONFIG_NOT_FOUND', `cannot read config file ${path}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new WalauditError('CONFIG_INVALID', `config file ${path} is not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new WalauditError('CONFIG_INVALID', `config file ${path} must hold a mapping at the top level`);
  return parsed as Record<string, unknown>;
}

function overlay(target: Record<string, unknown>, path: [string, string], value: unknown): void {
  if (value === undefined || value === '') return;
  const [section, key] = path;
  const current = target[section];
  const object = current && typeof current === 'object' ? (current as Record<string, unknown>) : {};
  object[key] = value;
  target[section] = object;
}

function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(',').map((item) => item.trim()).filter(Boolean);
}

function fromText(text: string | undefined, kind: ConfigOptionKind): unknown {
  switch (kind) {
    case 'string':
      return text;
    case 'number':
      return toNumber(text);
    case 'string[]':
      return splitList(text);
    case 'boolean':
      // Anything but true/false is passed on as text so the validator names the key.
      return text === 'true' ? true : text === 'false' ? false : text;
  }
}

function toNumber(value: string | undefined): number | string | undefined {
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  // A non-number is passed on as text so the validator names the key in its error.
  return Number.isFinite(number) ? number : value;
}
