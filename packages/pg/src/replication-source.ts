import pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { formatLsn, parseLsn, WalauditError, type ChangeSource, type Lsn, type WalMessage } from '@walaudit/core';
import { RelationCatalog } from './catalog.js';
import { toWalauditError } from './pg-errors.js';

export interface ReplicationSourceOptions {
  url: string;
  slot: string;
  publication: string;
}

const keepText = (raw: string) => raw;

/**
 * pgoutput with every column value kept as Postgres' text form: the library would otherwise run
 * pg's global type parsers (a timestamptz would become a Date and lose its microseconds). The
 * parsers are replaced as the relation message is parsed, before any row that uses them.
 */
class LosslessPgoutputPlugin extends PgoutputPlugin {
  override parse(buffer: Buffer): Pgoutput.Message {
    const message = super.parse(buffer);
    if (message.tag === 'relation') for (const column of message.columns) column.parser = keepText;
    return message;
  }
}

/**
 * Postgres logical replication as a ChangeSource. Acknowledges only what the caller confirmed as
 * durable: the library's own acknowledgement (which confirms what was merely received) is off,
 * and keepalive requests are answered with the last durable position.
 */
export class PgReplicationSource implements ChangeSource {
  private readonly service: LogicalReplicationService;
  private readonly catalogClient: pg.Client;
  private readonly catalog: RelationCatalog;
  private durable: Lsn = 0n;
  private stopping = false;
  private streaming = false;
  private settleStopped: () => void = () => {};

  constructor(private readonly options: ReplicationSourceOptions) {
    this.service = new LogicalReplicationService(
      { connectionString: options.url, application_name: 'walaudit-reader' },
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
    this.catalogClient = new pg.Client({ connectionString: options.url, application_name: 'walaudit-catalog' });
    this.catalog = new RelationCatalog((sql, params) => this.catalogClient.query(sql, params));
  }

  async run(handler: (message: WalMessage) => void | Promise<void>): Promise<void> {
    try {
      await this.catalogClient.connect();
      const slot = await this.catalogClient.query(
        'SELECT confirmed_flush_lsn::text AS lsn, plugin FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()',
        [this.options.slot],
      );
      const row = slot.rows[0] as { lsn: string | null; plugin: string } | undefined;
      if (!row) {
        throw new WalauditError('PG_SLOT_MISSING', `replication slot "${this.options.slot}" does not exist in this database: run \`walaudit setup\` first`);
      }
      if (row.lsn) this.durable = parseLsn(row.lsn);
    } catch (error) {
      await this.closeCatalog();
      throw toWalauditError(error, this.options.url);
    }
    // stop() before the stream exists only sets `stopping` (see stop()): end here instead of streaming.
    if (this.stopping) {
      await this.closeCatalog();
      return;
    }
    this.streaming = true;

    const plugin = new LosslessPgoutputPlugin({ protoVersion: 1, publicationNames: [this.options.publication], messages: true });
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        void this.shutdown().finally(() => reject(toWalauditError(error, this.options.url)));
      };
      this.settleStopped = () => {
        if (settled) return;
        settled = true;
        resolve();
      };
      this.service.on('data', async (_lsn: string, message: Pgoutput.Message) => {
        if (settled) return;
        try {
          await handler(await this.translate(message));
        } catch (error) {
          // The library would log and carry on with the next message; carrying on after a lost
          // message would let a later acknowledgement skip it, so the stream stops here.
          fail(error);
        }
      });
      this.service.on('heartbeat', (_lsn: string, _timestamp: number, shouldRespond: boolean) => {
        if (shouldRespond) void this.sendStatus();
      });
      this.service.on('error', (error: unknown) => {
        if (!this.stopping) fail(error);
      });
      this.service
        .subscribe(plugin, this.options.slot, formatLsn(this.durable))
        .then(() => {
          if (this.stopping) this.settleStopped();
          else fail(new WalauditError('PG_STREAM_ENDED', 'Postgres ended the replication stream', { retriable: true }));
        })
        .catch((error: unknown) => (this.stopping ? this.settleStopped() : fail(error)));
    });
  }

  confirm(lsn: Lsn): void {
    if (lsn <= this.durable) return;
    this.durable = lsn;
    void this.sendStatus();
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    // Before the stream exists, run() is still looking up the slot; ending the catalog client under
    // a pending connect() left that connect (and run) unsettled forever. run() sees `stopping` next.
    if (!this.streaming) return;
    await this.shutdown();
    this.settleStopped();
  }

  private async sendStatus(): Promise<void> {
    if (this.durable === 0n) return;
    try {
      // The library sends lsn + 1 as the flushed position; confirm the position itself.
      await this.service.acknowledge(formatLsn(this.durable - 1n));
    } catch {
      // A failed status message is retried on the next keepalive request.
    }
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    try {
      await this.service.stop();
    } finally {
      await this.closeCatalog();
    }
  }

  private async closeCatalog(): Promise<void> {
    await this.catalogClient.end().catch(() => {});
  }

  private async translate(message: Pgoutput.Message): Promise<WalMessage> {
    switch (message.tag) {
      case 'begin':
        return { tag: 'begin', xid: message.xid >>> 0, commitLsn: parseLsn(requireLsn(message.commitLsn)), commitTimeMicros: message.commitTime as bigint };
      case 'commit':
        return { tag: 'commit', commitLsn: parseLsn(requireLsn(message.commitLsn)), commitEndLsn: parseLsn(requireLsn(message.commitEndLsn)) };
      case 'relation':
        this.catalog.forget(message.relationOid);
        return { tag: 'relation', relation: await this.catalog.describe(message) };
      case 'insert':
        return { tag: 'insert', relationOid: message.relation.relationOid, after: message.new };
      case 'update':
        return { tag: 'update', relationOid: message.relation.relationOid, before: message.old ?? message.key, after: message.new };
      case 'delete':
        return { tag: 'delete', relationOid: message.relation.relationOid, before: message.old ?? message.key };
      case 'truncate':
        return { tag: 'truncate', relationOids: message.relations.map((relation) => relation.relationOid), cascade: message.cascade, restartIdentity: message.restartIdentity };
      case 'message':
        return {
          tag: 'message',
          transactional: message.transactional,
          lsn: parseLsn(requireLsn(message.messageLsn)),
          prefix: message.prefix,
          content: Buffer.from(message.content).toString('utf8'),
        };
      case 'origin':
      case 'type':
        return { tag: 'ignored', what: message.tag };
      default: {
        const unknown: never = message;
        throw new WalauditError('MALFORMED_MESSAGE', `unknown pgoutput message ${JSON.stringify(unknown)}`);
      }
    }
  }
}

function requireLsn(lsn: string | null): string {
  if (!lsn) throw new WalauditError('MALFORMED_MESSAGE', 'pgoutput message without an LSN');
  return lsn;
}
