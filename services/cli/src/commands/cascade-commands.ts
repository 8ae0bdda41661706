import type { WalauditConfig } from '@walaudit/core';
import { openExistingStore } from '../pipelines/open-store.js';
import { askRunningInstance } from '../running-instance.js';
import { causedBy, type CausedByAnswer } from '../cascade-services.js';
import { formatCascadeTree } from '../format-cascade-tree.js';

/** `walaudit log --caused-by ID`: from the running `start`, else from the store directly. */
export async function causedByCommand(config: WalauditConfig, entryId: string, flags: { json?: boolean }, out: (line: string) => void): Promise<void> {
  let answer = await askRunningInstance<CausedByAnswer>(config, `/api/cascade?caused-by=${encodeURIComponent(entryId)}`);
  if (!answer) {
    const stores = await openExistingStore(config);
    try {
      answer = await causedBy(stores.cascadeLinks, entryId);
    } finally {
      await stores.close();
    }
  }
  if (flags.json) {
    for (const link of answer.links) out(JSON.stringify(link));
    return;
  }
  for (const line of formatCascadeTree(answer.root, entryId, answer.links)) out(line);
}
