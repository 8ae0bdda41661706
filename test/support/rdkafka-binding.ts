import { describe, it } from 'vitest';

const importBinding = () => import('@confluentinc/kafka-javascript');
type RdkafkaBinding = Awaited<ReturnType<typeof importBinding>>['default'];

/**
 * librdkafka's binding (@confluentinc/kafka-javascript) is an optional dependency: a plain `npm ci`
 * skips it where no prebuilt binary can be fetched. Its tests then skip, saying why and how to
 * build it, so the README's two commands stay green. CI builds it and sets
 * WALAUDIT_REQUIRE_RDKAFKA=1: a missing binding there is a failed test, never a silent skip.
 */
const HOW_TO_BUILD =
  'build it with: apt-get install g++ make python3 pkg-config libssl-dev libsasl2-dev zlib1g-dev libzstd-dev liblz4-dev, then CKJS_LINKING=dynamic npm ci';

const required = process.env.WALAUDIT_REQUIRE_RDKAFKA === '1';

async function loadBinding(): Promise<RdkafkaBinding | string> {
  try {
    return (await importBinding()).default;
  } catch (error) {
    const firstLine = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    return `librdkafka's binding @confluentinc/kafka-javascript is not installed (${firstLine}); ${HOW_TO_BUILD}`;
  }
}

const loaded = await loadBinding();

/** The binding where it loads, else undefined. */
export const rdkafkaBinding: RdkafkaBinding | undefined = typeof loaded === 'string' ? undefined : loaded;

/**
 * Imports a module that needs the binding (it imports the binding at its top) only where the
 * binding loads, so that a test file can still be collected where it does not.
 */
export async function importWithRdkafka<T>(load: () => Promise<T>): Promise<T | undefined> {
  return rdkafkaBinding ? load() : undefined;
}

/**
 * `describe(name, body)` where the binding loads. Elsewhere `body` is not run: one test stands in
 * for it, skipped with the reason (the reporter prints it beside the test), or failing with it
 * under WALAUDIT_REQUIRE_RDKAFKA=1.
 */
export function describeWithRdkafka(name: string, body: () => void): void {
  if (typeof loaded !== 'string') {
    describe(name, body);
    return;
  }
  const reason = loaded;
  if (required) {
    describe(name, () => {
      it('needs librdkafka\'s binding (WALAUDIT_REQUIRE_RDKAFKA=1)', () => {
        throw new Error(`WALAUDIT_REQUIRE_RDKAFKA=1 but ${reason}`);
      });
    });
    return;
  }
  describe(name, () => {
    it('needs librdkafka\'s binding', (context) => context.skip(reason));
  });
}
