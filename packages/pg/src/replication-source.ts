import pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { describeError, formatLsn, MESSAGE_PREFIX, parseLsn, partitionChangeConcerns, WalauditError, type ChangeSource, type Lsn, type WalMessage } from '@walaudit/core';
import { RelationCatalog } from './catalog.js';
import { connectionLabel, toWalauditError } from './pg-errors.js';
import { libpqConnectionString } from './connection-string.js';
import { SLOT_LOSS_COLUMNS, slotLossOfRow, slotLostError, type SlotLossRow } from './slot-health.js';

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
  /** Settles when stop() is called: a slot lookup still connecting is abandoned, not awaited. */
  private readonly stopRequested: Promise<'stopped'>;
  private requestStop: () => void = () => {};
  /** Where a lost catalog connection goes; while streaming, it ends the stream (see run()). */
  private catalogLost: (error: unknown) => void = () => {};

  constructor(private readonly options: ReplicationSourceOptions) {
    this.service = new LogicalReplicationService(
      { connectionString: libpqConnectionString(options.url), application_name: 'walaudit-reader' },
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
    this.catalogClient = new pg.Client({ connectionString: libpqConnectionString(options.url), application_name: 'walaudit-catalog' });
    // An idle client whose server goes away emits 'error', and an unheard 'error' ends the process.
    // Before the stream runs, the pending connect or query gets the same failure.
    this.catalogClient.on('error', (error: unknown) => this.catalogLost(error));
    this.catalog = new RelationCatalog((sql, params) => this.catalogClient.query(sql, params));
    this.stopRequested = new Promise((resolve) => (this.requestStop = () => resolve('stopped')));
  }

  async run(handler: (message: WalMessage) => void | Promise<void>): Promise<void> {
    const lookup = this.lookUpSlot();
    lookup.catch(() => undefined);
    let outcome: 'ready' | 'stopped';
    try {
      // pg never settles a connect() whose client was ended meanwhile, so stop() does not wait
      // for the lookup: it ends it (closeCatalog below closes the socket).
      outcome = await Promise.race([lookup.then(() => 'ready' as const), this.stopRequested]);
    } catch (error) {
      await this.closeCatalog();
      throw toWalauditError(error, this.options.url);
    }
    // stop() before the stream exists only asks (see stop()): end here instead of streaming.
    if (outcome === 'stopped' || this.stopping) {
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
      // Any failure of the catalog connection is a lost connection, retried with a new session:
      // even one whose SQLSTATE alone would not say so (an idle-session timeout, say).
      this.catalogLost = (error) => {
        if (this.stopping) return;
        fail(new WalauditError('PG_UNREACHABLE', `the catalog connection to ${connectionLabel(this.options.url)} was lost: ${describeError(error)}`, { cause: error, retriable: true }));
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
    this.requestStop();
    // Before the stream exists, run() is still looking up the slot: it ends the lookup itself.
    if (!this.streaming) return;
    await this.shutdown();
    this.settleStopped();
  }

  private async sendStatus(): Promise<void> {
    // Once stopping, the connection is being ended: a write on it could fail after the library
    // has removed its error listeners.
    if (this.durable === 0n || this.stopping) return;
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

  private async lookUpSlot(): Promise<void> {
    await this.catalogClient.connect();
    const slot = await this.catalogClient.query(
      `SELECT s.confirmed_flush_lsn::text AS lsn, s.plugin, ${SLOT_LOSS_COLUMNS} FROM pg_replication_slots s WHERE s.slot_name = $1 AND s.database = current_database()`,
      [this.options.slot],
    );
    const row = slot.rows[0] as (SlotLossRow & { lsn: string | null; plugin: string }) | undefined;
    if (!row) {
      throw new WalauditError('PG_SLOT_MISSING', `replication slot "${this.options.slot}" does not exist in this database: run \`walaudit setup\` first`);
    }
    // Streaming from a lost slot fails with a bare "cannot read"; retrying it forever would hide the gap.
    const lost = slotLossOfRow(row);
    if (lost) throw slotLostError(this.options.slot, lost);
    if (row.lsn) this.durable = parseLsn(row.lsn);
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
      case 'message': {
        const content = Buffer.from(message.content).toString('utf8');
        if (message.prefix === MESSAGE_PREFIX.partitionChange && !partitionChangeConcerns(content, this.options.publication)) {
          return { tag: 'ignored', what: 'a partition change of a table another publication publishes' };
        }
        return {
          tag: 'message',
          transactional: message.transactional,
          lsn: parseLsn(requireLsn(message.messageLsn)),
          prefix: message.prefix,
          content,
        };
      }
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
