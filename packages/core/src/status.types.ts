/** What `walaudit status` and `GET /status` report. LSNs in Postgres spelling. */
export interface PipelineStatus {
  state: 'starting' | 'running' | 'retrying' | 'stopped' | 'failed';
  source: string;
  store: string;
  slot: string;
  slotExists: boolean;
  slotActive: boolean;
  confirmedLsn: string | null;
  serverLsn: string | null;
  lagBytes: number | null;
  retainedBytes: number | null;
  eventsTotal: number;
  entriesStored: number;
  eventsPerSecond: number;
  startedAt: string;
  lastError: { code: string; message: string; at: string } | null;
}
