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
  /** Distributed mode only: this process's part of the Kafka pipeline. */
  kafka?: KafkaServiceStatus;
}

export interface KafkaServiceStatus {
  /** The services this process runs. */
  services: ('reader' | 'writer')[];
  brokers: string[];
  topic: string;
  group: string;
  /** Reader: events published to the changes topic (acknowledged). */
  published: number;
  /** Writer: partitions of the changes topic this process owns now. */
  partitions: number[];
  /** Writer: messages not yet stored, summed over its partitions (as of each partition's last batch). */
  consumerLag: number | null;
  /** Writer: messages sent to the dead-letter topic. */
  deadLetters: number;
}
