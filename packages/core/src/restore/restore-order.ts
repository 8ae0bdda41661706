import type { RowImage } from '../change-event.types.js';
import { keyText, qualifiedName, type ForeignKey } from '../cascade/foreign-key.types.js';

export interface OrderedRows {
  /** Indexes in an order where every parent comes before its children. */
  order: number[];
  /** Indexes by level: a row's parents within the set are all in earlier levels. */
  levels: number[][];
  /** Per row, each foreign key it has a value for, and the row of the set it points at (if any). */
  edges: { fk: ForeignKey; parent: number | undefined }[][];
}

/**
 * Orders rows to insert so that each comes after the rows of the set it references (through any
 * foreign key, whatever its ON DELETE action), level by level so a level can be inserted in batches.
 * A row referencing itself needs nothing before it. Rows in a reference cycle go last, together:
 * only deferrable constraints let those in.
 */
export function orderInLevels(rows: readonly { schema: string; table: string; row: RowImage }[], foreignKeys: readonly ForeignKey[]): OrderedRows {
  const byChild = new Map<string, ForeignKey[]>();
  for (const fk of foreignKeys) {
    const child = qualifiedName(fk.schema, fk.table);
    const list = byChild.get(child);
    if (list) list.push(fk);
    else byChild.set(child, [fk]);
  }
  // Parents by referenced table and columns, built only for keys some row points at.
  const indexes = new Map<string, Map<string, number>>();
  const indexFor = (fk: ForeignKey) => {
    const name = `${qualifiedName(fk.refSchema, fk.refTable)}\u0000${fk.refColumns.join('\u0000')}`;
    let index = indexes.get(name);
    if (!index) {
      index = new Map();
      rows.forEach((item, i) => {
        if (item.schema !== fk.refSchema || item.table !== fk.refTable) return;
        const key = keyText(item.row, fk.refColumns);
        if (key !== null) index!.set(key, i);
      });
      indexes.set(name, index);
    }
    return index;
  };

  const edges: OrderedRows['edges'] = rows.map(() => []);
  const children: number[][] = rows.map(() => []);
  const waiting = new Int32Array(rows.length);
  rows.forEach((item, i) => {
    for (const fk of byChild.get(qualifiedName(item.schema, item.table)) ?? []) {
      const key = keyText(item.row, fk.columns);
      if (key === null) continue;
      const parent = indexFor(fk).get(key);
      if (parent === i) continue;
      edges[i]!.push({ fk, parent });
      if (parent !== undefined) {
        children[parent]!.push(i);
        waiting[i]!++;
      }
    }
  });

  const order: number[] = [];
  let frontier: number[] = [];
  for (let i = 0; i < rows.length; i++) if (waiting[i] === 0) frontier.push(i);
  const levels: number[][] = [];
  while (frontier.length > 0) {
    levels.push(frontier);
    const next: number[] = [];
    for (const i of frontier) {
      order.push(i);
      for (const child of children[i]!) {
        if (--waiting[child]! === 0) next.push(child);
      }
    }
    frontier = next;
  }
  if (order.length < rows.length) {
    const cycle: number[] = [];
    for (let i = 0; i < rows.length; i++) if (waiting[i]! > 0) cycle.push(i);
    levels.push(cycle);
    order.push(...cycle);
  }
  return { order, levels, edges };
}
