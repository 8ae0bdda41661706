import type { ComponentChildren } from 'preact';
import { useMemo } from 'preact/hooks';
import { createTable, getCoreRowModel, type ColumnDef } from '@tanstack/table-core';

export type Columns<T> = ColumnDef<T, unknown>[];

function render<C>(template: unknown, context: C): ComponentChildren {
  return typeof template === 'function' ? (template as (context: C) => ComponentChildren)(context) : (template as ComponentChildren);
}

/** A table through TanStack Table's core (headless): columns declared once, rendered as plain, accessible HTML. */
export function DataTable<T>({ data, columns, caption, rowId, empty = 'Nothing here.' }: { data: T[]; columns: Columns<T>; caption: string; rowId: (row: T) => string; empty?: string }) {
  const table = useMemo(() => {
    const created = createTable<T>({ data, columns, getCoreRowModel: getCoreRowModel(), getRowId: rowId, state: {}, onStateChange: () => undefined, renderFallbackValue: '' });
    created.setOptions((previous) => ({ ...previous, state: created.initialState }));
    return created;
  }, [data, columns]);
  const rows = table.getRowModel().rows;
  return (
    <div class="table-wrap">
      <table>
        <caption>{caption}</caption>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => (
                <th key={header.id} scope="col">
                  {render(header.column.columnDef.header, header.getContext())}
                </th>
              ))}
            </tr>
          ))}
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length}>{empty}</td>
            </tr>
          ) : (
            rows.map((row) => (
              <tr key={row.id}>
                {row.getVisibleCells().map((cell) => (
                  <td key={cell.id}>{render(cell.column.columnDef.cell, cell.getContext())}</td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
