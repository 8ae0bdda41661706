import { describe, expect, it } from 'vitest';
import { runSigkillSoak } from '../../bench/sigkill-soak.mjs';

/**
 * `walaudit start` killed with SIGKILL at random points over 200k changes (inserts, updates,
 * deletes, 2,000 rows per statement), started again each time: every change is stored exactly once
 * (counted by table, key and operation against what was written), no entry id twice (physical
 * copies counted, before any merge), and the chains verify. bench/sigkill-soak.mjs runs the same
 * over 1M changes. WALAUDIT_SOAK_SEED replays a failing run's kill points.
 */
describe('SIGKILL soak', () => {
  it('stores every change once through repeated SIGKILLs and restarts, and the chain verifies', async () => {
    const seed = process.env.WALAUDIT_SOAK_SEED ? Number(process.env.WALAUDIT_SOAK_SEED) : undefined;
    // The workload is paced (0.6 s between its 50 transactions) so that it is still being written while
    // the kills come, whatever the machine's speed: written at full speed, the stream could be caught
    // up before the later kills, and those would hit an idle process.
    const figures = await runSigkillSoak({ changes: 200_000, rowsPerStatement: 2_000, kills: 6, pauseMs: 600, seed });
    console.log(`SIGKILL soak: ${JSON.stringify(figures)}`);
    const context = JSON.stringify(figures);
    expect(figures.kills, context).toBeGreaterThanOrEqual(6);
    // Most kills land mid-stream, after the run stored its first entries (every fourth during
    // start-up, which must be safe too).
    expect(figures.killAfterMs.filter((when) => when.startsWith('streaming')).length, context).toBeGreaterThanOrEqual(4);
    expect(figures.killedWhileStreaming, context).toBeGreaterThanOrEqual(4);
    expect(figures.changes).toBe(200_000);
    expect({ entries: figures.entries, duplicates: figures.duplicates, missing: figures.missing, storedTwice: figures.storedTwice, unexpected: figures.unexpected, verify: figures.verify }, context)
      .toEqual({ entries: 200_000, duplicates: 0, missing: 0, storedTwice: 0, unexpected: 0, verify: 'intact' });
    expect(figures.entriesVerified).toBe(200_000);
    expect(figures.ok).toBe(true);
  }, 300_000);
});
