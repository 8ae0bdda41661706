import type { ActionDetail, Actor, AppContext, ChangeEvent, ColumnDef, DbContext, RowImage } from './change-event.types.js';
import { microsToIso } from './commit-time.js';
import { eventId } from './event-id.js';
import { formatLsn, type Lsn } from './lsn.js';
import { PendingPartitionTruncates, parsePartitionTruncate } from './partition-truncates.js';
import { parsePartitionChange } from './partition-changes.js';
import { MESSAGE_PREFIX, type RelationShape, type WalMessage, type WalTuple } from './wal-message.types.js';
import { DEFAULT_ACTOR_TAG_OPTIONS, type ActorTagOptions } from './tags/actor-config.schema.js';
import { actorWithApp, statementActor } from './tags/statement-actor.js';
import type { TagsRefusal } from './tags/sqlcommenter.js';

/** What a decoded message means for the reader's cursor. */
export type DecodeOutcome =
  | { kind: 'none' }
  /** The transaction ended: once its events are durable, `ackLsn` may be confirmed to the slot. */
  | { kind: 'commit'; ackLsn: Lsn; events: number }
  /** A heartbeat outside any transaction: everything before it has been seen. */
  | { kind: 'heartbeat'; ackLsn: Lsn };

export interface DecoderNotice {
  code: 'NO_PRIMARY_KEY' | 'NOT_FULL_IDENTITY' | 'MALFORMED_CONTEXT' | 'UNKNOWN_RELATION' | 'TAGS_IGNORED';
  message: string;
}

interface OpenTransaction {
  xid: number;
  commitLsn: Lsn;
  /** `<16 hex digits>-`: every event id of the transaction starts with it. */
  idPrefix: string;
  lsnText: string;
  commitTime: string;
  seq: number;
  actor: Actor;
  /** What withAuditContext sent, kept apart: each statement's tags are added to it anew. */
  app?: AppContext;
  events: number;
}

/**
 * Turns the pgoutput stream into ChangeEvents, one message at a time, holding only the current
 * transaction's header and the relation shapes: a 10-million-row DELETE streams through.
 */
export class ChangeDecoder {
  private readonly relations = new Map<number, RelationShape>();
  private readonly shapes: Map<string, ColumnDef[]>;
  private readonly noticed = new Set<string>();
  private tx: OpenTransaction | null = null;
  private readonly partitionTruncates = new PendingPartitionTruncates();

  constructor(
    private readonly emit: (event: ChangeEvent) => void,
    private readonly notice: (notice: DecoderNotice) => void = () => {},
    /** The last column list stored per `schema.table`, so a restart can tell a real schema change. */
    knownShapes: ReadonlyMap<string, ColumnDef[]> = new Map(),
    /** How statement tags are read into the actor (config section `actor`). */
    private readonly tagOptions: ActorTagOptions = DEFAULT_ACTOR_TAG_OPTIONS,
  ) {
    this.shapes = new Map(knownShapes);
  }

  get inTransaction(): boolean {
    return this.tx !== null;
  }

  decode(message: WalMessage): DecodeOutcome {
    // A held partition truncate is settled by the next change; relation messages precede a truncate.
    if (this.partitionTruncates.size > 0 && message.tag !== 'relation' && message.tag !== 'truncate' && !(message.tag === 'message' && message.prefix === MESSAGE_PREFIX.partitionTruncate)) {
      this.emitPartitionTruncates();
    }
    switch (message.tag) {
      case 'begin':
        this.partitionTruncates.clear();
        this.tx = {
          xid: message.xid,
          commitLsn: message.commitLsn,
          idPrefix: eventId(message.commitLsn, 0).slice(0, -1),
          lsnText: formatLsn(message.commitLsn),
          commitTime: microsToIso(message.commitTimeMicros),
          seq: 0,
          actor: {},
          events: 0,
        };
        return { kind: 'none' };
      case 'commit': {
        const events = this.tx?.events ?? 0;
        this.tx = null;
        return { kind: 'commit', ackLsn: message.commitEndLsn, events };
      }
      case 'relation':
        this.onRelation(message.relation);
        return { kind: 'none' };
      case 'insert': {
        const relation = this.relation(message.relationOid);
        const after = toImage(message.after);
        this.emitRow(relation, 'insert', null, after);
        return { kind: 'none' };
      }
      case 'update': {
        const relation = this.relation(message.relationOid);
        const before = message.before ? toImage(message.before) : null;
        this.emitRow(relation, 'update', before, toImage(message.after));
        return { kind: 'none' };
      }
      case 'delete': {
        const relation = this.relation(message.relationOid);
        this.emitRow(relation, 'delete', message.before ? toImage(message.before) : null, null);
        return { kind: 'none' };
      }
      case 'truncate': {
        const truncated = new Set(message.relationOids.map((oid) => { const r = this.relation(oid); return `${r.schema}.${r.table}`; }));
        this.emitPartitionTruncates(truncated);
        for (const oid of message.relationOids) {
          const relation = this.relation(oid);
          this.emitEvent({ op: 'truncate', schema: relation.schema, table: relation.table, keyKind: 'primary-key', pk: null, columns: relation.columns, before: null, after: null, changed: [] });
        }
        return { kind: 'none' };
      }
      case 'message':
        return this.onLogicalMessage(message);
      case 'ignored':
        return { kind: 'none' };
      default: {
        const unknown: never = message;
        throw new Error(`unknown WAL message ${JSON.stringify(unknown)}`);
      }
    }
  }

  private relation(oid: number): RelationShape {
    const relation = this.relations.get(oid);
    // pgoutput always sends a relation before its first row in a session; anything else is a bug upstream.
    if (!relation) throw new Error(`row change for relation ${oid} arrived before its relation message`);
    return relation;
  }

  private onRelation(relation: RelationShape): void {
    this.relations.set(relation.oid, relation);
    const key = `${relation.schema}.${relation.table}`;
    const previous = this.shapes.get(key);
    this.shapes.set(key, relation.columns);
    if (relation.primaryKey.length === 0) {
      this.noticeOnce(`pk:${key}`, {
        code: 'NO_PRIMARY_KEY',
        message: `table ${key} has no primary key: its entries are keyed by the full row`,
      });
    }
    if (relation.replicaIdentity !== 'full') {
      this.noticeOnce(`ri:${key}`, {
        code: 'NOT_FULL_IDENTITY',
        message: `table ${key} has REPLICA IDENTITY ${relation.replicaIdentity.toUpperCase()}: deletes and updates carry only the key, not the full row. Run \`walaudit setup\` or ALTER TABLE ${key} REPLICA IDENTITY FULL`,
      });
    }
    if (previous && !sameShape(previous, relation.columns) && this.tx) {
      this.emitEvent({
        op: 'schema',
        schema: relation.schema,
        table: relation.table,
        keyKind: 'primary-key',
        pk: null,
        columns: relation.columns,
        before: null,
        after: null,
        changed: changedColumns(previous, relation.columns),
        schemaChange: { oldColumns: previous, newColumns: relation.columns },
      });
    }
  }

  private onLogicalMessage(message: Extract<WalMessage, { tag: 'message' }>): DecodeOutcome {
    if (!message.transactional) {
      if (message.prefix === MESSAGE_PREFIX.heartbeat && !this.tx) return { kind: 'heartbeat', ackLsn: message.lsn };
      return { kind: 'none' };
    }
    if (!this.tx) return { kind: 'none' };
    switch (message.prefix) {
      case MESSAGE_PREFIX.appContext: {
        const parsed = this.parseJson(message.content, message.prefix) as AppContext;
        this.tx.app = parsed;
        this.tx.actor = actorWithApp(this.tx.actor, parsed, this.tagOptions);
        return { kind: 'none' };
      }
      case MESSAGE_PREFIX.statementContext: {
        const parsed = this.parseJson(message.content, message.prefix) as unknown as DbContext;
        this.tx.actor = statementActor(parsed, this.tx.app, this.tagOptions, (why) =>
          this.noticeOnce(`tags:${why}`, {
            code: 'TAGS_IGNORED',
            message: `a statement's sqlcommenter comment was not read (${TAGS_REFUSALS[why]}); its entries carry no tags. Further such statements are not reported`,
          }),
        );
        return { kind: 'none' };
      }
      case MESSAGE_PREFIX.action: {
        const parsed = this.parseJson(message.content, message.prefix);
        const { table: qualified, key, ...rest } = parsed;
        const [schema, table] = splitQualified(typeof qualified === 'string' ? qualified : '');
        const action: ActionDetail = { ...rest, name: typeof rest.name === 'string' ? rest.name : typeof rest.action === 'string' ? rest.action : 'unnamed' };
        this.emitEvent({
          op: 'action',
          schema,
          table,
          keyKind: 'primary-key',
          pk: isStringRecord(key) ? key : null,
          columns: [],
          before: null,
          after: null,
          changed: [],
          action,
        });
        return { kind: 'none' };
      }
      case MESSAGE_PREFIX.partitionChange: {
        const change = parsePartitionChange(this.parseJson(message.content, message.prefix));
        if (!change) {
          this.notice({ code: 'MALFORMED_CONTEXT', message: `message with prefix "${message.prefix}" names no partition change; not recorded: ${message.content.slice(0, 200)}` });
          return { kind: 'none' };
        }
        this.emitEvent({ op: 'action', schema: change.schema, table: change.table, keyKind: 'primary-key', pk: null, columns: [], before: null, after: null, changed: [], action: change.action });
        return { kind: 'none' };
      }
      case MESSAGE_PREFIX.partitionTruncate: {
        const marker = parsePartitionTruncate(this.parseJson(message.content, message.prefix));
        if (marker) this.partitionTruncates.hold(marker);
        return { kind: 'none' };
      }
      default:
        return { kind: 'none' };
    }
  }

  /** Records the held partition truncates that pgoutput's truncate of `truncated` does not. */
  private emitPartitionTruncates(truncated?: ReadonlySet<string>): void {
    for (const m of this.partitionTruncates.take(truncated)) {
      this.emitEvent({ op: 'truncate', schema: m.schema, table: m.table, keyKind: 'primary-key', pk: null, columns: this.shapes.get(`${m.schema}.${m.table}`) ?? this.shapes.get(`${m.rootSchema}.${m.rootTable}`) ?? [], before: null, after: null, changed: [] });
    }
  }

  private parseJson(content: string, prefix: string): Record<string, unknown> {
    try {
      const value: unknown = JSON.parse(content);
      if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // fall through: a malformed context is kept verbatim, never dropped
    }
    this.notice({ code: 'MALFORMED_CONTEXT', message: `message with prefix "${prefix}" is not a JSON object; kept verbatim as {"malformed": ...}` });
    return { malformed: content };
  }

  private emitRow(relation: RelationShape, op: 'insert' | 'update' | 'delete', before: RowImage | null, after: RowImage | null): void {
    const source = op === 'delete' ? before : after;
    const hasKey = relation.primaryKey.length > 0;
    const pk = source ? (hasKey ? pick(source, relation.primaryKey) : source) : null;
    this.emitEvent({
      op,
      schema: relation.schema,
      table: relation.table,
      keyKind: hasKey ? 'primary-key' : 'full-row',
      pk,
      columns: relation.columns,
      before,
      after,
      changed: op === 'update' && after ? changedValues(before, after) : [],
    });
  }

  private emitEvent(partial: Omit<ChangeEvent, 'id' | 'tx' | 'actor'>): void {
    const tx = this.tx;
    if (!tx) throw new Error(`${partial.op} on ${partial.schema}.${partial.table} arrived outside a transaction`);
    const seq = tx.seq++;
    tx.events++;
    const event = partial as ChangeEvent;
    // The partial is a fresh object literal from the callers: completing it in place spares a
    // copy per row, which a million-row DELETE notices.
    event.id = tx.idPrefix + seq;
    event.tx = { xid: tx.xid, lsn: tx.lsnText, commitTime: tx.commitTime, seq };
    event.actor = tx.actor;
    this.emit(event);
  }

  private noticeOnce(key: string, notice: DecoderNotice): void {
    if (this.noticed.has(key)) return;
    this.noticed.add(key);
    this.notice(notice);
  }
}

const TAGS_REFUSALS: Record<TagsRefusal, string> = {
  'several-statements': 'the query string holds several statements, and which one a change came from cannot be told',
  malformed: "it is not a list of key='value' pairs with URL-encoded keys and values",
  'too-many': 'more pairs than actor.tagsMaxCount',
  'too-long': 'longer than actor.tagsMaxLength',
};

function toImage(tuple: WalTuple): RowImage {
  let complete = true;
  for (const name in tuple) {
    if (tuple[name] === undefined) {
      complete = false;
      break;
    }
  }
  if (complete) return tuple as RowImage;
  // Unsent (unchanged TOAST without an old image) stays absent rather than pretending to be NULL.
  const image: RowImage = {};
  for (const name in tuple) {
    const value = tuple[name];
    if (value !== undefined) image[name] = value;
  }
  return image;
}

function pick(row: RowImage, names: readonly string[]): RowImage {
  const picked: RowImage = {};
  for (const name of names) picked[name] = row[name] ?? null;
  return picked;
}

function changedValues(before: RowImage | null, after: RowImage): string[] {
  if (!before) return Object.keys(after);
  return Object.keys(after).filter((name) => before[name] !== after[name]);
}

function sameShape(a: readonly ColumnDef[], b: readonly ColumnDef[]): boolean {
  return a.length === b.length && a.every((column, i) => column.name === b[i]?.name && column.typeOid === b[i]?.typeOid);
}

function changedColumns(previous: readonly ColumnDef[], next: readonly ColumnDef[]): string[] {
  const before = new Map(previous.map((column) => [column.name, column.typeOid]));
  const after = new Map(next.map((column) => [column.name, column.typeOid]));
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((name) => before.get(name) !== after.get(name));
}

function splitQualified(qualified: string): [string, string] {
  if (!qualified) return ['', ''];
  const dot = qualified.indexOf('.');
  return dot < 0 ? ['public', qualified] : [qualified.slice(0, dot), qualified.slice(dot + 1)];
}

function isStringRecord(value: unknown): value is RowImage {
  return !!value && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => v === null || typeof v === 'string');
}
