import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findFreePort } from '@walaudit/pg';
import { tempDir } from './temp-dir.js';

const run = promisify(execFile);

/** infra/kafka/kafka.sh: fetches Kafka's jars from Maven Central (cached) and runs a KRaft broker. */
export const KAFKA_SCRIPT = fileURLToPath(new URL('../../infra/kafka/kafka.sh', import.meta.url));

export interface LocalKafka {
  /** `127.0.0.1:PORT`, for the `kafka.brokers` option. */
  brokers: string[];
  /** Directory of the broker's data, pid and logs (broker.log). */
  dir: string;
  /** Stops the broker (SIGTERM, waits for it to exit); its data stays for restart(). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data (topics, offsets, groups kept). */
  restart(): Promise<void>;
}

/**
 * A real single-node Kafka broker (KRaft) on free ports, for one test file: start it in beforeAll
 * and stop it in afterAll. Give each test its own topic prefix (uniqueName) rather than a broker
 * of its own: a start costs seconds.
 */
export async function startLocalKafka(): Promise<LocalKafka> {
  const dir = tempDir('kafka');
  const port = await findFreePort();
  let controllerPort = await findFreePort();
  while (controllerPort === port) controllerPort = await findFreePort();
  const start = async () => {
    try {
      await run('bash', [KAFKA_SCRIPT, 'start', dir, String(port), String(controllerPort)], { timeout: 180_000 });
    } catch (error) {
      const { stderr } = error as { stderr?: string };
      throw new Error(`cannot start the Kafka broker (Java 17 and Maven needed; see infra/kafka/kafka.sh): ${stderr ?? String(error)}`);
    }
  };
  await start();
  const stop = async () => {
    await run('bash', [KAFKA_SCRIPT, 'stop', dir], { timeout: 60_000 });
  };
  return { brokers: [`127.0.0.1:${port}`], dir, stop, restart: start };
}
