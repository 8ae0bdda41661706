import { WalauditError, type StoreBundle, type WalauditConfig } from '@walaudit/core';
import { openExistingStore } from '../pipelines/open-store.js';
import { askRunningInstance } from '../running-instance.js';

/** One page of anything listed with a keyset cursor. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export type PageFetch<T> = (limit: number, cursor?: string) => Promise<Page<T>>;

/**
 * Hands `each` up to `limit` items, a page of at most `pageSize` at a time, following nextCursor:
 * memory holds one page, whatever the limit, and the first lines are out before the last page is
 * read. Returns how many were handed out.
 */
export async function eachPage<T>(fetch: PageFetch<T>, limit: number, pageSize: number, each: (item: T) => void): Promise<number> {
  let shown = 0;
  let cursor: string | undefined;
  do {
    const page = await fetch(Math.min(pageSize, limit - shown), cursor);
    for (const item of page.items.slice(0, limit - shown)) {
      each(item);
      shown += 1;
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined && shown < limit);
  return shown;
}

export interface PagedRead<T, R> {
  /** The API path of one page (with its limit and cursor). */
  path: (limit: number, cursor?: string) => string;
  /** The items of the API's answer. */
  unwrap: (answer: R) => Page<T>;
  /** The same page from the store itself, when no `walaudit start` runs. */
  offline: (stores: StoreBundle) => PageFetch<T>;
}

/**
 * eachPage from a running `walaudit start` when one answers, else from the store opened here (the
 * embedded store opens in one process only); every page comes from the one that gave the first.
 */
export async function readPages<T, R>(config: WalauditConfig, read: PagedRead<T, R>, limit: number, pageSize: number, each: (item: T) => void): Promise<number> {
  const firstLimit = Math.min(pageSize, limit);
  const first = await askRunningInstance<R>(config, read.path(firstLimit));
  if (first !== undefined) {
    const remote: PageFetch<T> = async (pageLimit, cursor) => {
      if (cursor === undefined) return read.unwrap(first);
      const answer = await askRunningInstance<R>(config, read.path(pageLimit, cursor));
      if (answer === undefined) throw new WalauditError('SERVER_NOT_RUNNING', 'walaudit stopped answering while the pages were read: what was printed is complete up to there; run the command again');
      return read.unwrap(answer);
    };
    return eachPage(remote, limit, pageSize, each);
  }
  const stores = await openExistingStore(config);
  try {
    return await eachPage(read.offline(stores), limit, pageSize, each);
  } finally {
    await stores.close();
  }
}
