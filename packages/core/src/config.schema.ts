import { z } from 'zod';
import { WalauditError } from './errors.js';
import { alertsConfigSchema } from './alerts/alerts-config.schema.js';
import { actorConfigSchema } from './tags/actor-config.schema.js';
import { connectionUrlProblem, redactUrl } from './connection-url.js';

/** A connection URL whose problem (a bad port, a wrong scheme) is named at start, with the password hidden. */
const connectionUrl = (schemes: readonly string[], example: string) =>
  z.string().superRefine((value, ctx) => {
    const problem = connectionUrlProblem(value, schemes, example);
    if (problem) ctx.addIssue({ code: 'custom', message: `"${redactUrl(value)}": ${problem}` });
  });
const postgresUrl = () => connectionUrl(['postgres', 'postgresql'], 'postgres://user@host:5432/db');

/**
 * Every walaudit option, with its default and its documentation, in one place. Sources, in
 * increasing precedence: defaults, the YAML file (`--config`), environment variables, CLI flags.
 * docs/configuration.md is the user-facing copy of these comments.
 */

const tablePattern = z
  .string()
  .min(1)
  .describe('Table pattern: `schema.table` or `table` (schema public); `*` matches any run of characters.');

const maskSchema = z
  .object({
    /** Column name (exact). */
    column: z.string().min(1),
    /** `redact` replaces the value with `[redacted]`; `hash` with a keyed HMAC-SHA-256, so equal values stay searchable. */
    mode: z.enum(['redact', 'hash']).default('redact'),
  })
  .strict();

export const auditRuleSchema = z
  .object({
    /** Tables this rule applies to. The first rule whose pattern matches an event decides for it. */
    tables: z.array(tablePattern).min(1).default(['*']),
    /** Operations recorded; others are dropped before anything is stored. */
    operations: z.array(z.enum(['insert', 'update', 'delete', 'truncate'])).min(1).default(['insert', 'update', 'delete', 'truncate']),
    /** When set, only these columns are kept in before/after images (key columns always are). */
    includeColumns: z.array(z.string().min(1)).optional(),
    /** Columns removed from before/after images (never key columns). */
    excludeColumns: z.array(z.string().min(1)).default([]),
    /** Columns whose values are masked before they are hashed and stored. */
    mask: z.array(maskSchema).default([]),
    /** Marks the table as critical: every transaction deleting from it raises a critical-table alert. */
    critical: z.boolean().default(false),
    /** Days the entries of these tables are kept; 0 keeps forever. Default: `retention.defaultDays`. */
    retentionDays: z.number().int().min(0).optional(),
    /** `false` drops every change of the matching tables. */
    audit: z.boolean().default(true),
  })
  .strict();

export const configSchema = z
  .object({
    source: z
      .object({
        /** Postgres connection URL of the audited database (env `DATABASE_URL`). Empty: start a local demo database. */
        url: postgresUrl().optional(),
        /** Logical replication slot walaudit reads from. */
        slot: z.string().regex(/^[a-z0-9_]{1,63}$/, 'lower-case letters, digits and _ only').default('walaudit'),
        /** Publication walaudit subscribes to. */
        publication: z.string().regex(/^[a-z0-9_]{1,63}$/, 'lower-case letters, digits and _ only').default('walaudit'),
        /** Tables to audit (`schema.table`); empty means every table in the database (FOR ALL TABLES). */
        tables: z.array(z.string().min(1)).default([]),
        /**
         * Postgres 17+: setup creates the slot as a failover slot, which a standby with
         * `sync_replication_slots = on` keeps in step, so walaudit can resume on it after a failover.
         */
        failoverSlot: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    store: z
      .object({
        /** URL of a ClickHouse server (env `WALAUDIT_CLICKHOUSE_URL`). Empty: the embedded engine (chDB) under `dataDir`. */
        url: z.string().optional(),
        /** Directory of the embedded store (env `WALAUDIT_DATA_DIR`). */
        dataDir: z.string().default('.walaudit/data'),
        /** ClickHouse database that holds the audit tables. */
        database: z.string().regex(/^[A-Za-z0-9_]+$/).default('walaudit'),
        username: z.string().optional(),
        password: z.string().optional(),
      })
      .strict()
      .prefault({}),
    http: z
      .object({
        /** Interface the HTTP API listens on. Another than loopback needs TLS or trusted proxies (or `allowInsecureBind`). */
        host: z.string().default('127.0.0.1'),
        /** Port of `/health`, `/metrics` and the API (env `WALAUDIT_HTTP_PORT`); the read commands use it too. */
        port: z.number().int().min(0).max(65535).default(7433),
        /** Bearer token the read commands send to a running `start`; unset, they read the local token file in the data directory. */
        token: z.string().optional(),
        /** PEM certificate file: with `tlsKeyFile`, the API speaks HTTPS. */
        tlsCertFile: z.string().optional(),
        /** PEM private key file of `tlsCertFile`. */
        tlsKeyFile: z.string().optional(),
        /** Addresses (CIDRs) of reverse proxies whose user and group headers are believed; empty: none. */
        trustedProxies: z.array(z.string().min(1)).default([]),
        /** Header a trusted proxy names the user in. */
        proxyUserHeader: z.string().min(1).default('x-forwarded-user'),
        /** Header a trusted proxy lists the user's groups in (comma-separated). */
        proxyGroupsHeader: z.string().min(1).default('x-forwarded-groups'),
        /** Proxy groups whose members are managers. */
        managerGroups: z.array(z.string().min(1)).default([]),
        /** Proxy groups whose members are viewers. */
        viewerGroups: z.array(z.string().min(1)).default([]),
        /** Host names (no port) the Host header may carry, besides localhost, 127.0.0.1 and [::1]. */
        allowedHosts: z.array(z.string().min(1)).default([]),
        /** Browser origins (`https://console.example`) allowed to call the API cross-origin (CORS); empty: none. */
        allowedOrigins: z.array(z.string().min(1)).default([]),
        /** `/metrics` answers without a token (it holds counts, never audited values). */
        metricsPublic: z.boolean().default(true),
        /** `/api/docs` and `/api/openapi.json` answer without a token (they describe the API, no data). */
        docsPublic: z.boolean().default(false),
        /** Listen on a non-loopback address without TLS or trusted proxies anyway (warns). */
        allowInsecureBind: z.boolean().default(false),
        /** Largest request body accepted, in bytes. */
        bodyLimitBytes: z.number().int().min(1024).max(100 * 1024 * 1024).default(1024 * 1024),
        /** Requests per minute from one address before 429; 0: no limit. */
        rateLimitPerMinute: z.number().int().min(0).default(1200),
        /** Failed authentications per minute from one address before it is refused (429) for the rest of that minute. */
        authFailuresPerMinute: z.number().int().min(1).default(20),
        /** Live event streams (`GET /api/events`) open at once; one more is refused (503) until one closes. */
        liveStreamsMax: z.number().int().min(1).max(10_000).default(32),
        /** Bytes waiting for one live stream's client at two checks a second apart (or four times as many at once) before it is dropped as too slow. */
        liveStreamBufferBytes: z.number().int().min(4096).max(64 * 1024 * 1024).default(256 * 1024),
      })
      .strict()
      .prefault({}),
    pipeline: z
      .object({
        /** Most events handed to the store in one insert; also bounds memory per batch. */
        batchSize: z.number().int().min(1).max(1_000_000).default(10_000),
        /** Longest time a committed change waits before its batch is flushed, in ms. */
        flushIntervalMs: z.number().int().min(0).max(60_000).default(200),
        /** How often a heartbeat message is written when the slot would otherwise stand still, in ms. */
        heartbeatIntervalMs: z.number().int().min(100).max(3_600_000).default(10_000),
        /** A warning is logged when the slot holds more WAL than this, in bytes. */
        lagWarnBytes: z.number().int().min(0).default(1024 * 1024 * 1024),
        /** First and longest wait between retries of a failed store write, in ms. */
        retryInitialMs: z.number().int().min(1).default(500),
        retryMaxMs: z.number().int().min(1).default(30_000),
      })
      .strict()
      .prefault({}),
    retention: z
      .object({
        /** Days entries are kept unless a rule says otherwise; 0 keeps forever. */
        defaultDays: z.number().int().min(0).default(90),
      })
      .strict()
      .prefault({}),
    masking: z
      .object({
        /** Key of the `hash` masking mode (env `WALAUDIT_MASK_KEY`). Required when a rule uses it. */
        hashKey: z.string().optional(),
      })
      .strict()
      .prefault({}),
    /** Who the entries name: the statements' sqlcommenter tags and the app user they may give (tags/actor-config.schema.ts). */
    actor: actorConfigSchema,
    /** Alerts on bulk and critical-table deletions, and where they are sent (alerts-config.schema.ts). */
    alerts: alertsConfigSchema,
    cascade: z
      .object({
        /** Link rows removed by ON DELETE CASCADE (or nulled by SET NULL) to the delete that caused them. */
        links: z.boolean().default(true),
        /** Foreign keys are read from the catalog again at least this often, in ms (and after every table shape change). */
        refreshIntervalMs: z.number().int().min(1_000).default(60_000),
        /** Most deleted parent keys remembered within one transaction; bounds the correlator's memory. */
        maxTrackedKeys: z.number().int().min(1).default(5_000_000),
        /** Postgres URL of the role restores connect as (needs INSERT, and UPDATE for --revert). Default: source.url. */
        restoreUrl: postgresUrl().optional(),
        /** What a restore does when a row cannot go back as it was: fail (nothing restored), skip the row, or give it a new key. */
        onConflict: z.string().pipe(z.enum(['fail', 'skip', 'new-key'])).default('fail'),
        /** Redis URL of the restore job queue (BullMQ). Empty: restores run in the `start` process (standalone). */
        redisUrl: connectionUrl(['redis', 'rediss'], 'redis://host:6379').optional(),
        /** BullMQ queue name of restore jobs. */
        queue: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only (no ":")').default('walaudit-restore'),
        /** Attempts of a restore job that fails with a transient error (connection lost, deadlock). */
        attempts: z.number().int().min(1).max(100).default(3),
        /** How long a worker's lock on a restore job lasts, in ms: a job whose worker died goes to another worker after this. */
        jobLockMs: z.number().int().min(1_000).default(30_000),
        /** Rows a restore sends per chunk of its COPY (each table of each level is one COPY): the step of its progress. */
        batchRows: z.number().int().min(1).max(100_000).default(5_000),
      })
      .strict()
      .prefault({}),
    /** Distributed mode (`walaudit start --mode distributed`): Kafka between the reader and the writers. */
    kafka: z
      .object({
        /** Bootstrap brokers, `host:port` (env comma-separated). */
        brokers: z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'host:port')).min(1).default(['127.0.0.1:9092']),
        /** Topics are `<topicPrefix>.changes`, `<topicPrefix>.transactions` and `<topicPrefix>.dead-letter`. */
        topicPrefix: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'letters, digits, ".", "_" and "-" only').default('walaudit'),
        /** Client id the broker sees in its logs and quotas. */
        clientId: z.string().min(1).default('walaudit'),
        /** Consumer group of the writers: every writer with the same group shares the partitions. */
        groupId: z.string().min(1).default('walaudit-writers'),
        /** Partitions of the topics walaudit creates (only when a topic is absent). */
        partitions: z.number().int().min(1).max(10_000).default(6),
        /** Replication factor of the topics walaudit creates; 3 on a production cluster. */
        replicationFactor: z.number().int().min(1).max(32).default(1),
        /** Connect with TLS. */
        ssl: z.boolean().default(false),
        /** PEM file of the CA that signed the brokers' certificates (default: the system's CAs). */
        sslCaFile: z.string().optional(),
        /** SASL mechanism; none when absent. */
        saslMechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
        saslUsername: z.string().optional(),
        saslPassword: z.string().optional(),
        /** `json`, or `avro` (Confluent wire format, schemas/avro/) which needs `schemaRegistryUrl`. */
        format: z.enum(['json', 'avro']).default('json'),
        /** Confluent-compatible schema registry API (`http://registry:8081`), for `format: avro`; credentials may go in the URL (HTTP Basic). */
        schemaRegistryUrl: z.string().url().optional(),
        /** A writer that hears nothing from the group coordinator for this long is replaced by another, in ms. */
        sessionTimeoutMs: z.number().int().min(6_000).max(300_000).default(30_000),
      })
      .strict()
      .prefault({}),
    /** The PDF audit report (`GET /api/exports/report.pdf`, `walaudit export --format pdf`). */
    report: z
      .object({
        /** Organisation named on the report's title page; empty: none named. */
        organisation: z.string().default(''),
        /** Most entries one report holds; a filter matching more is refused (export CSV instead). */
        maxEntries: z.number().int().min(1).max(1_000_000).default(10_000),
        /** TrueType font for the report's text (e.g. DejaVuSans.ttf); default Helvetica, which prints only Latin-1 (other characters as `?`). */
        fontFile: z.string().optional(),
      })
      .strict()
      .prefault({}),
    /** Signed checkpoints of every hash chain, kept outside the store (schemas/checkpoints.md). Off until a signing key is set. */
    checkpoints: z
      .object({
        /** File holding the Ed25519 signing key (`walaudit keys generate --out FILE`, mode 0600). */
        keyFile: z.string().optional(),
        /** The signing key itself, `PRIVATE+KEY+...` (env `WALAUDIT_SIGNING_KEY`); wins over `keyFile`. */
        key: z.string().optional(),
        /** Append-only JSON-lines file the signed checkpoints go to (fsynced), outside the store. */
        file: z.string().min(1).default('.walaudit/checkpoints.jsonl'),
        /** A chain that received entries is checkpointed at least this often, in ms (and at shutdown). */
        intervalMs: z.number().int().min(1_000).max(86_400_000).default(60_000),
        /** ...and as soon as this many entries were added to a chain since its last checkpoint. */
        everyEntries: z.number().int().min(1).default(100_000),
      })
      .strict()
      .prefault({}),
    /** Audit rules, first match wins. Default: every table, every operation, no masking. */
    rules: z.array(auditRuleSchema).default([]),
  })
  .strict()
  .superRefine((config, ctx) => {
    const usesHash = config.rules.some((rule) => rule.mask.some((mask) => mask.mode === 'hash'));
    if (usesHash && !config.masking.hashKey) {
      ctx.addIssue({ code: 'custom', path: ['masking', 'hashKey'], message: 'a rule masks with mode "hash": set masking.hashKey or WALAUDIT_MASK_KEY' });
    }
    if (config.kafka.format === 'avro' && !config.kafka.schemaRegistryUrl) {
      ctx.addIssue({ code: 'custom', path: ['kafka', 'schemaRegistryUrl'], message: 'kafka.format is avro: set kafka.schemaRegistryUrl (a Confluent-compatible schema registry)' });
    }
    if (config.kafka.saslMechanism && (!config.kafka.saslUsername || !config.kafka.saslPassword)) {
      ctx.addIssue({ code: 'custom', path: ['kafka', 'saslUsername'], message: `kafka.saslMechanism is ${config.kafka.saslMechanism}: set kafka.saslUsername and kafka.saslPassword` });
    }
    if (config.pipeline.retryInitialMs > config.pipeline.retryMaxMs) {
      ctx.addIssue({ code: 'custom', path: ['pipeline', 'retryInitialMs'], message: 'must not exceed pipeline.retryMaxMs' });
    }
  });

export type WalauditConfig = z.output<typeof configSchema>;
export type WalauditConfigInput = z.input<typeof configSchema>;
export type AuditRule = z.output<typeof auditRuleSchema>;

/** Validates a config object; the error names every bad key by its path, e.g. `rules.0.mask.1.mode`. */
export function parseConfig(input: unknown, origin = 'config'): WalauditConfig {
  const result = configSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    return `  "${key}": ${issue.message}`;
  });
  throw new WalauditError('CONFIG_INVALID', `${origin} is not valid:\n${problems.join('\n')}`);
}

export type ConfigOptionKind = 'string' | 'number' | 'boolean' | 'string[]';

export interface ConfigOption {
  /** `['pipeline', 'batchSize']` */
  path: [string, string];
  kind: ConfigOptionKind;
  /** `WALAUDIT_PIPELINE_BATCH_SIZE`: every option of a section can come from the environment. */
  envName: string;
}

interface SchemaNode {
  def?: { type: string; innerType?: unknown; in?: unknown; element?: unknown; shape?: Record<string, unknown> };
}

function unwrap(node: SchemaNode): SchemaNode {
  let current = node;
  // Defaults, optionals, prefaults and refinements wrap the type that matters.
  while (current.def && ['default', 'optional', 'prefault', 'pipe', 'nullable'].includes(current.def.type)) {
    current = (current.def.innerType ?? current.def.in) as SchemaNode;
  }
  return current;
}

function kindOf(node: SchemaNode): ConfigOptionKind | null {
  const inner = unwrap(node);
  switch (inner.def?.type) {
    case 'string':
    case 'enum':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array':
      return ['string', 'enum'].includes(unwrap(inner.def.element as SchemaNode).def?.type ?? '') ? 'string[]' : null;
    default:
      return null;
  }
}

/** The section options (not the rules list), read from the schema itself so none is forgotten. */
export function configOptions(): ConfigOption[] {
  const top = unwrap(configSchema as unknown as SchemaNode);
  const options: ConfigOption[] = [];
  for (const [section, sectionSchema] of Object.entries(top.def?.shape ?? {})) {
    const shape = unwrap(sectionSchema as SchemaNode).def?.shape;
    if (!shape) continue;
    for (const [key, schema] of Object.entries(shape)) {
      const kind = kindOf(schema as SchemaNode);
      if (!kind) continue;
      const snake = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
      options.push({ path: [section, key], kind, envName: `WALAUDIT_${section.toUpperCase()}_${snake}` });
    }
  }
  return options;
}
