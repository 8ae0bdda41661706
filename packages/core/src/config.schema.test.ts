import { describe, expect, it } from 'vitest';
import { auditRuleSchema, configSchema, parseConfig } from './config.schema.js';
import { WalauditError } from './errors.js';

function configError(input: unknown, origin?: string): WalauditError {
  try {
    parseConfig(input, origin);
  } catch (error) {
    expect(error).toBeInstanceOf(WalauditError);
    return error as WalauditError;
  }
  throw new Error('parseConfig accepted an invalid config');
}

/** The alerts section's defaults (its own tests: alerts/deletion-tally.test.ts). */
const ALERTS_DEFAULTS = {
  enabled: true, threshold: 50, windowMinutes: 10, operations: ['delete'], excludeActors: [], quietHours: '', tables: [], windowStore: 'memory',
  pagerdutyUrl: 'https://events.pagerduty.com/v2/enqueue', emailFrom: 'walaudit@localhost', emailTo: [], syslogPort: 514, syslogProtocol: 'udp',
  notifyTimeoutMs: 5_000, notifyAttempts: 6, notifyRetryInitialMs: 500, notifyRetryMaxMs: 30_000, countBy: 'actor',
};

const ACTOR_DEFAULTS = { appUserFromTags: [], tagsMaxCount: 32, tagsMaxLength: 2048 };

const DEFAULTS = {
  source: { slot: 'walaudit', publication: 'walaudit', tables: [], failoverSlot: false },
  store: { dataDir: '.walaudit/data', database: 'walaudit' },
  http: {
    host: '127.0.0.1', port: 7433, trustedProxies: [], proxyUserHeader: 'x-forwarded-user', proxyGroupsHeader: 'x-forwarded-groups', managerGroups: [], viewerGroups: [],
    allowedHosts: [], allowedOrigins: [], metricsPublic: true, docsPublic: false, allowInsecureBind: false, bodyLimitBytes: 1048576, rateLimitPerMinute: 1200, authFailuresPerMinute: 20, liveStreamsMax: 32, liveStreamBufferBytes: 262144,
  },
  pipeline: {
    batchSize: 10_000,
    flushIntervalMs: 200,
    heartbeatIntervalMs: 10_000,
    lagWarnBytes: 1024 * 1024 * 1024,
    retryInitialMs: 500,
    retryMaxMs: 30_000,
  },
  retention: { defaultDays: 90 },
  masking: {},
  actor: ACTOR_DEFAULTS,
  alerts: ALERTS_DEFAULTS,
  cascade: { links: true, refreshIntervalMs: 60_000, maxTrackedKeys: 5_000_000, onConflict: 'fail', queue: 'walaudit-restore', attempts: 3, jobLockMs: 30_000, batchRows: 5_000 },
  kafka: {
    brokers: ['127.0.0.1:9092'],
    topicPrefix: 'walaudit',
    clientId: 'walaudit',
    groupId: 'walaudit-writers',
    partitions: 6,
    replicationFactor: 1,
    ssl: false,
    format: 'json',
    sessionTimeoutMs: 30_000,
  },
  report: { organisation: '', maxEntries: 10_000 },
  checkpoints: { file: '.walaudit/checkpoints.jsonl', intervalMs: 60_000, everyEntries: 100_000 },
  rules: [],
};

describe('parseConfig defaults', () => {
  it('fills every default from an empty object', () => {
    expect(parseConfig({})).toEqual(DEFAULTS);
  });

  it('treats a missing config (empty YAML file) as empty', () => {
    expect(parseConfig(undefined)).toEqual(DEFAULTS);
    expect(parseConfig(null)).toEqual(DEFAULTS);
  });

  it('fills the defaults of a partly given section and keeps the given values', () => {
    const config = parseConfig({ pipeline: { batchSize: 500 }, source: { url: 'postgres://db/app', tables: ['public.users'] } });
    expect(config.pipeline).toEqual({ ...DEFAULTS.pipeline, batchSize: 500 });
    expect(config.source).toEqual({ url: 'postgres://db/app', slot: 'walaudit', publication: 'walaudit', tables: ['public.users'], failoverSlot: false });
    expect(config.store).toEqual(DEFAULTS.store);
  });

  it('fills the defaults of each rule', () => {
    const config = parseConfig({ rules: [{ tables: ['orders'] }, { retentionDays: 0, mask: [{ column: 'ssn' }] }] });
    expect(config.rules).toEqual([
      { tables: ['orders'], operations: ['insert', 'update', 'delete', 'truncate'], excludeColumns: [], mask: [], critical: false, audit: true },
      {
        tables: ['*'],
        operations: ['insert', 'update', 'delete', 'truncate'],
        excludeColumns: [],
        mask: [{ column: 'ssn', mode: 'redact' }],
        critical: false,
        retentionDays: 0,
        audit: true,
      },
    ]);
  });

  it('accepts a full, valid config', () => {
    const input = {
      source: { url: 'postgres://u@h/db', slot: 'audit_1', publication: 'pub_2', tables: ['public.a'], failoverSlot: true },
      store: { url: 'http://ch:8123', dataDir: '/var/lib/walaudit', database: 'Audit_DB', username: 'u', password: 'p' },
      http: {
        host: '0.0.0.0', port: 0, token: 'wat_x', tlsCertFile: '/etc/walaudit/cert.pem', tlsKeyFile: '/etc/walaudit/key.pem', trustedProxies: ['10.0.0.0/8'], proxyUserHeader: 'x-user',
        proxyGroupsHeader: 'x-groups', managerGroups: ['dba'], viewerGroups: ['dev'], allowedHosts: ['audit.example'], allowedOrigins: ['https://console.example'], metricsPublic: false,
        docsPublic: true, allowInsecureBind: true, bodyLimitBytes: 2048, rateLimitPerMinute: 0, authFailuresPerMinute: 5, liveStreamsMax: 2, liveStreamBufferBytes: 8192,
      },
      pipeline: { batchSize: 1, flushIntervalMs: 0, heartbeatIntervalMs: 100, lagWarnBytes: 0, retryInitialMs: 10, retryMaxMs: 10 },
      retention: { defaultDays: 0 },
      masking: { hashKey: 'secret' },
      cascade: { links: false, refreshIntervalMs: 1_000, maxTrackedKeys: 10, restoreUrl: 'postgres://restorer@h/db', onConflict: 'new-key', redisUrl: 'redis://r:6379', queue: 'q.1', attempts: 1, jobLockMs: 1_000, batchRows: 1 },
      kafka: {
        brokers: ['k1:9093', 'k2:9093'],
        topicPrefix: 'prod.audit',
        clientId: 'walaudit-eu',
        groupId: 'writers-eu',
        partitions: 12,
        replicationFactor: 3,
        ssl: true,
        sslCaFile: '/etc/ssl/kafka-ca.pem',
        saslMechanism: 'scram-sha-512',
        saslUsername: 'walaudit',
        saslPassword: 'pw',
        format: 'avro',
        schemaRegistryUrl: 'http://registry:8081',
        sessionTimeoutMs: 45_000,
      },
      report: { organisation: 'Example Health Ltd', maxEntries: 500, fontFile: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf' },
      checkpoints: { keyFile: '/etc/walaudit/signing.key', file: '/var/log/walaudit/checkpoints.jsonl', intervalMs: 30_000, everyEntries: 5_000 },
      rules: [
        {
          tables: ['public.users', 'app.*'],
          operations: ['delete'],
          includeColumns: ['email'],
          excludeColumns: ['note'],
          mask: [{ column: 'email', mode: 'hash' }],
          critical: true,
          retentionDays: 3650,
          audit: true,
        },
      ],
    };
    expect(parseConfig(input)).toEqual({ ...input, actor: ACTOR_DEFAULTS, alerts: ALERTS_DEFAULTS });
  });
});

describe('parseConfig errors', () => {
  it('names a bad restore conflict policy and a queue name BullMQ would refuse', () => {
    const message = configError({ cascade: { onConflict: 'overwrite', queue: 'a:b' } }).message;
    expect(message).toContain('"cascade.onConflict"');
    expect(message).toContain('"cascade.queue": letters, digits, _ . - only (no ":")');
  });

  it('names what the kafka section lacks', () => {
    expect(configError({ kafka: { format: 'avro' } }).message).toContain('"kafka.schemaRegistryUrl": kafka.format is avro');
    expect(configError({ kafka: { saslMechanism: 'plain', saslUsername: 'u' } }).message).toContain('"kafka.saslUsername": kafka.saslMechanism is plain');
    expect(configError({ kafka: { brokers: ['no-port'] } }).message).toContain('"kafka.brokers.0": host:port');
    expect(configError({ kafka: { topicPrefix: 'a b' } }).message).toContain('"kafka.topicPrefix"');
  });

  it('names a bad nested field by its dotted path, with code CONFIG_INVALID', () => {
    const error = configError({ pipeline: { batchSize: 0 } });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.retriable).toBe(false);
    expect(error.message).toBe('config is not valid:\n  "pipeline.batchSize": Too small: expected number to be >=1');
  });

  it('names the origin it was given', () => {
    expect(configError({ http: { port: 70_000 } }, '/etc/walaudit.yaml').message).toMatch(/^\/etc\/walaudit\.yaml is not valid:\n {2}"http\.port": /);
  });

  it('names a field inside rule arrays by index', () => {
    const error = configError({ rules: [{ tables: ['a'] }, { mask: [{ column: 'x' }, { column: 'y', mode: 'scramble' }] }] });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('"rules.1.mask.1.mode": ');
    expect(error.message.split('\n')).toHaveLength(2);
  });

  it('lists every problem, one per line', () => {
    const error = configError({ source: { slot: 'Bad-Slot' }, http: { port: 1.5 }, rules: [{ operations: ['select'] }] });
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('config is not valid:');
    expect(lines.slice(1).map((line) => line.match(/^ {2}"([^"]+)":/)?.[1]).sort()).toEqual(['http.port', 'rules.0.operations.0', 'source.slot']);
    expect(error.message).toContain('"source.slot": lower-case letters, digits and _ only');
  });

  it('rejects unknown keys at the top level', () => {
    const error = configError({ sorce: { url: 'x' } });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('"(top level)": ');
    expect(error.message).toContain('"sorce"');
  });

  it('rejects unknown keys inside a section, naming the section', () => {
    const error = configError({ pipeline: { batchsize: 10 } });
    expect(error.message).toContain('"pipeline": ');
    expect(error.message).toContain('"batchsize"');
  });

  it('rejects unknown keys inside a rule and inside a mask', () => {
    expect(configError({ rules: [{ table: ['users'] }] }).message).toContain('"rules.0": ');
    expect(configError({ rules: [{ mask: [{ column: 'a', how: 'redact' }] }] }).message).toContain('"rules.0.mask.0": ');
  });

  it('rejects a hash mask without a key, naming masking.hashKey', () => {
    const error = configError({ rules: [{ mask: [{ column: 'ssn', mode: 'hash' }] }] });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(
      'config is not valid:\n  "masking.hashKey": a rule masks with mode "hash": set masking.hashKey or WALAUDIT_MASK_KEY',
    );
  });

  it('rejects a hash mask with an empty key', () => {
    expect(configError({ masking: { hashKey: '' }, rules: [{ mask: [{ column: 'ssn', mode: 'hash' }] }] }).message).toContain('"masking.hashKey"');
  });

  it('accepts a hash mask with a key, and a redact mask without one', () => {
    expect(parseConfig({ masking: { hashKey: 'k' }, rules: [{ mask: [{ column: 'ssn', mode: 'hash' }] }] }).masking.hashKey).toBe('k');
    expect(parseConfig({ rules: [{ mask: [{ column: 'ssn', mode: 'redact' }] }] }).rules[0]?.mask).toEqual([{ column: 'ssn', mode: 'redact' }]);
  });

  it('rejects a first retry wait longer than the longest', () => {
    expect(configError({ pipeline: { retryInitialMs: 5000, retryMaxMs: 100 } }).message).toBe(
      'config is not valid:\n  "pipeline.retryInitialMs": must not exceed pipeline.retryMaxMs',
    );
  });

  it.each([
    [{ source: { slot: 'has space' } }, 'source.slot'],
    [{ source: { publication: 'x'.repeat(64) } }, 'source.publication'],
    [{ source: { tables: [''] } }, 'source.tables.0'],
    [{ store: { database: 'a-b' } }, 'store.database'],
    [{ http: { port: -1 } }, 'http.port'],
    [{ http: { port: '7433' } }, 'http.port'],
    [{ pipeline: { flushIntervalMs: 60_001 } }, 'pipeline.flushIntervalMs'],
    [{ pipeline: { heartbeatIntervalMs: 99 } }, 'pipeline.heartbeatIntervalMs'],
    [{ retention: { defaultDays: -1 } }, 'retention.defaultDays'],
    [{ retention: { defaultDays: 1.5 } }, 'retention.defaultDays'],
    [{ rules: [{ tables: [] }] }, 'rules.0.tables'],
    [{ rules: [{ tables: [''] }] }, 'rules.0.tables.0'],
    [{ rules: [{ operations: [] }] }, 'rules.0.operations'],
    [{ rules: [{ retentionDays: -5 }] }, 'rules.0.retentionDays'],
    [{ rules: [{ critical: 'yes' }] }, 'rules.0.critical'],
    [{ rules: [{ mask: [{ column: '' }] }] }, 'rules.0.mask.0.column'],
    [{ rules: {} }, 'rules'],
  ])('rejects %j at %s', (input, path) => {
    const error = configError(input);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message.split('\n').slice(1)).toEqual([expect.stringMatching(new RegExp(`^ {2}"${path.replace(/\./g, '\\.')}": .+`))]);
  });

  it('rejects a config that is not an object', () => {
    expect(configError(5).message).toMatch(/^config is not valid:\n {2}"\(top level\)": /);
    expect(configError([]).code).toBe('CONFIG_INVALID');
  });
});

describe('auditRuleSchema', () => {
  it('is the schema of configSchema rules', () => {
    expect(auditRuleSchema.parse({})).toEqual(configSchema.parse({ rules: [{}] }).rules[0]);
  });
});
