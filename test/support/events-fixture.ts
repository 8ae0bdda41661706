import { query } from './postgres.js';

/**
 * Table `events` and procedure `load_events(total, per_tx)`, which inserts `total` rows committing
 * every `per_tx`: a long stream of small transactions for the crash tests to kill a process in.
 */
export async function createEventsTable(url: string): Promise<void> {
  await query(url, `CREATE TABLE events (id int PRIMARY KEY, payload text NOT NULL)`);
  await query(
    url,
    `CREATE PROCEDURE load_events(total int, per_tx int) LANGUAGE plpgsql AS $$
     BEGIN
       FOR start IN 0 .. total - 1 BY per_tx LOOP
         INSERT INTO events SELECT g, 'payload ' || g FROM generate_series(start, start + per_tx - 1) AS g;
         COMMIT;
       END LOOP;
     END $$`,
  );
}
