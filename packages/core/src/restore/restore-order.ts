import type { RowImage } from '../change-event.types.js';
import { keyText, qualifiedName, runNames, type ForeignKey } from '../cascade/foreign-key.types.js';

export interface OrderedRows {
  /** Indexes in an order where every parent comes before its children. */
  order: number[];
  /** Indexes by level: a row's parents within the set are all in earlier levels. */
  levels: number[][];
  /** Per row, each foreign key it has a value for (its key text), and the row of the set it points at (if any). */
  edges: { fk: ForeignKey; target: string; parent: number | undefined }[][];
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
  // Asked once per row: by the constraint itself first, its name string only once per constraint.
  const indexOfFk = new Map<ForeignKey, Map<string, number>>();
  const indexFor = (fk: ForeignKey) => {
    const known = indexOfFk.get(fk);
    if (known) return known;
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
    indexOfFk.set(fk, index);
    return index;
  };

  // Most rows have no children and one or two keys: arrays only where something is there.
  const none: never[] = [];
  const edges: OrderedRows['edges'] = new Array(rows.length);
  const children: number[][] = new Array(rows.length);
  const waiting = new Int32Array(rows.length);
  const nameOf = runNames();
  for (let i = 0; i < rows.length; i++) {
    const item = rows[i]!;
    let own: OrderedRows['edges'][number] = none;
    for (const fk of byChild.get(nameOf(item.schema, item.table)) ?? none) {
      const key = keyText(item.row, fk.columns);
      if (key === null) continue;
      const parent = indexFor(fk).get(key);
      if (parent === i) continue;
      if (own === none) own = [];
      own.push({ fk, target: key, parent });
      if (parent !== undefined) {
        (children[parent] ??= []).push(i);
        waiting[i]!++;
      }
    }
    edges[i] = own;
  }

  const order: number[] = [];
  let frontier: number[] = [];
  for (let i = 0; i < rows.length; i++) if (waiting[i] === 0) frontier.push(i);
  const levels: number[][] = [];
  while (frontier.length > 0) {
    levels.push(frontier);
    const next: number[] = [];
    for (const i of frontier) {
      order.push(i);
      for (const child of children[i] ?? none) {
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
