import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from './temp-dir.js';

const run = promisify(execFile);

/** infra/schema-registry/registry.sh: builds Apicurio Registry from Maven Central (cached) and runs it. */
const REGISTRY_SCRIPT = fileURLToPath(new URL('../../infra/schema-registry/registry.sh', import.meta.url));

export interface LocalSchemaRegistry {
  /** Its Confluent-compatible API, for `kafka.schemaRegistryUrl`. */
  url: string;
  stop(): Promise<void>;
}

/** A real Confluent-compatible schema registry (in memory) on a free port, for one test file. */
export async function startLocalSchemaRegistry(): Promise<LocalSchemaRegistry> {
  const dir = tempDir('registry');
  let url: string;
  try {
    // The first run on a machine builds it (about 2 minutes); .ci/run does that beforehand.
    ({ stdout: url } = await run('bash', [REGISTRY_SCRIPT, 'start', dir], { timeout: 600_000 }));
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`cannot start the schema registry (Java 17 and Maven needed; see infra/schema-registry/registry.sh): ${stderr ?? String(error)}`);
  }
  return {
    url: url.trim(),
    stop: async () => {
      await run('bash', [REGISTRY_SCRIPT, 'stop', dir], { timeout: 60_000 });
    },
  };
}
