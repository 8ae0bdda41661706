import type { AuditEntry, CascadeLink, RowImage } from '@walaudit/core';

function keyOf(key: RowImage | null): string {
  return key ? Object.entries(key).map(([name, value]) => `${name}=${value ?? 'NULL'}`).join(',') : '';
}

/**
 * `walaudit log --caused-by`: the entry, then everything its deletion removed (or nulled), as a
 * tree through each link's parent. Children in log order.
 */
export function formatCascadeTree(root: AuditEntry | null, rootId: string, links: readonly CascadeLink[]): string[] {
  const children = new Map<string, CascadeLink[]>();
  for (const link of links) {
    const list = children.get(link.parentEntryId);
    if (list) list.push(link);
    else children.set(link.parentEntryId, [link]);
  }
  for (const list of children.values()) list.sort((a, b) => a.seq - b.seq);
  const lines: string[] = [];
  const head = root ? `${root.op.toUpperCase()} ${root.schema}.${root.table} ${keyOf(root.pk)}  xid ${root.tx.xid}  ${root.tx.commitTime}` : 'entry';
  lines.push(`${head}  id ${rootId}`);
  const walk = (parentId: string, indent: string) => {
    const list = children.get(parentId) ?? [];
    list.forEach((link, i) => {
      const last = i === list.length - 1;
      const how = link.kind === 'set-null' ? `SET NULL by ${link.constraint}` : `CASCADE by ${link.constraint}`;
      lines.push(`${indent}${last ? '└─' : '├─'} ${link.schema}.${link.table} ${keyOf(link.key)}  ${how}  id ${link.entryId}`);
      walk(link.entryId, `${indent}${last ? '   ' : '│  '}`);
    });
  };
  walk(rootId, '');
  const removed = links.filter((link) => link.kind === 'cascade').length;
  const nulled = links.length - removed;
  lines.push(links.length === 0 ? 'nothing was removed or nulled because of this entry' : `${removed} rows removed, ${nulled} set to NULL because of this entry`);
  return lines;
}
