/** Types of sigkill-soak.mjs, for the integration test that runs it. */
export interface SigkillSoakOptions {
  /** Changes to write (rounded up to whole batches). @defaultValue 200000 */
  changes?: number;
  /** Rows per statement (even): each batch is an INSERT of this many, an UPDATE and a DELETE of half. @defaultValue 2000 */
  rowsPerStatement?: number;
  /** SIGKILLs at least (more while the workload is still being written). @defaultValue 6 */
  kills?: number;
  seed?: number;
  /** Pause between batches, so the workload spans the kills. @defaultValue 100 */
  pauseMs?: number;
  /** Every how many kills one is made during start-up rather than while streaming. @defaultValue 4 */
  startupKillEvery?: number;
  /** Bounds of the random time a process streams (after its first stored entries) before its SIGKILL. @defaultValue 200 and 2500 */
  minUpMs?: number;
  maxUpMs?: number;
  catchUpTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface SigkillSoakFigures {
  ok: boolean;
  changes: number;
  entries: number;
  duplicates: number;
  missing: number;
  storedTwice: number;
  unexpected: number;
  verify: string;
  entriesVerified: number;
  kills: number;
  /** Kills of a process that had stored entries of its own run (its /api/status): killed mid-stream. */
  killedWhileStreaming: number;
  /** When each kill came: `start-up +N ms` (after the spawn) or `streaming +N ms` (after its first stored entries). */
  killAfterMs: string[];
  rowsPerStatement: number;
  seed: number;
  seconds: number;
}

export function runSigkillSoak(options?: SigkillSoakOptions): Promise<SigkillSoakFigures>;
