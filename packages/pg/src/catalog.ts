import type pg from 'pg';
import type { ColumnDef, RelationShape } from '@walaudit/core';

/** The parts of a pgoutput relation message the catalog lookup needs. */
export interface WireRelation {
  relationOid: number;
  schema: string;
  name: string;
  replicaIdentity: RelationShape['replicaIdentity'];
  columns: { name: string; typeOid: number; typeMod: number }[];
}

/**
 * Completes relation messages with what pgoutput leaves out: type names (format_type, so a
 * restore can cast the text back, enums and domains included) and the real primary key (under
 * REPLICA IDENTITY FULL every column is flagged as key).
 */
export class RelationCatalog {
  private readonly primaryKeys = new Map<number, string[]>();
  private readonly typeNames = new Map<string, string>();

  constructor(private readonly query: (sql: string, params: unknown[]) => Promise<pg.QueryResult>) {}

  async describe(relation: WireRelation): Promise<RelationShape> {
    const [primaryKey, types] = await Promise.all([this.primaryKey(relation.relationOid), this.resolveTypes(relation.columns)]);
    const columns: ColumnDef[] = relation.columns.map((column, i) => ({ name: column.name, type: types[i] ?? `oid:${column.typeOid}`, typeOid: column.typeOid }));
    return { oid: relation.relationOid, schema: relation.schema, table: relation.name, columns, primaryKey, replicaIdentity: relation.replicaIdentity };
  }

  /** A relation message follows every schema change: forget what may have changed. */
  forget(relationOid: number): void {
    this.primaryKeys.delete(relationOid);
  }

  private async primaryKey(relationOid: number): Promise<string[]> {
    const cached = this.primaryKeys.get(relationOid);
    if (cached) return cached;
    const result = await this.query(
      `SELECT a.attname AS name
         FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])
        WHERE i.indrelid = $1 AND i.indisprimary
        ORDER BY array_position(i.indkey::int2[], a.attnum)`,
      [relationOid],
    );
    const names = result.rows.map((row: { name: string }) => row.name);
    this.primaryKeys.set(relationOid, names);
    return names;
  }

  private async resolveTypes(columns: WireRelation['columns']): Promise<string[]> {
    const keyOf = (column: { typeOid: number; typeMod: number }) => `${column.typeOid}:${column.typeMod}`;
    const missing = columns.filter((column) => !this.typeNames.has(keyOf(column)));
    if (missing.length > 0) {
      const result = await this.query(
        `SELECT i AS idx, format_type(($1::oid[])[i], NULLIF(($2::int[])[i], -1)) AS name
           FROM generate_subscripts($1::oid[], 1) AS i`,
        [missing.map((column) => column.typeOid), missing.map((column) => column.typeMod)],
      );
      for (const row of result.rows as { idx: number; name: string | null }[]) {
        const column = missing[row.idx - 1];
        if (column && row.name) this.typeNames.set(keyOf(column), row.name);
      }
    }
    return columns.map((column) => this.typeNames.get(keyOf(column)) ?? `oid:${column.typeOid}`);
  }
}
