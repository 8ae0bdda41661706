import type { IHeaders } from 'kafkajs';
import { CHANGE_HEADERS, JSON_CONTENT_TYPE, type OutgoingMessage } from './change-message.js';

export const TRANSACTION_SCHEMA = 'transaction-marker';
export const TRANSACTION_SCHEMA_VERSION = '1';

/** A transaction as the `<prefix>.transactions` topic describes it (schemas/kafka-messages.md). */
export interface TransactionMarker {
  type: 'BEGIN' | 'END';
  xid: number;
  /** Commit LSN, Postgres spelling; with xid it names the transaction. */
  lsn: string;
  commitTime: string;
  /** END only: events published to `<prefix>.changes` for this transaction. */
  events?: number;
  /** END only: those events per `schema.table` (actions without a table count under ""). */
  tables?: Record<string, number>;
}

const headers: IHeaders = {
  [CHANGE_HEADERS.contentType]: JSON_CONTENT_TYPE,
  [CHANGE_HEADERS.schema]: TRANSACTION_SCHEMA,
  [CHANGE_HEADERS.schemaVersion]: TRANSACTION_SCHEMA_VERSION,
};

export function encodeTransactionMarker(marker: TransactionMarker): OutgoingMessage {
  return { key: String(marker.xid), value: JSON.stringify(marker), headers };
}
