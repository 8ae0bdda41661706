import { expect, it } from 'vitest';
import { describeWithRdkafka, rdkafkaBinding } from '../../../test/support/rdkafka-binding.js';

/**
 * librdkafka is compiled on install where no prebuilt binary can be fetched (see .ci/run), and its
 * configure silently leaves out what a missing -dev package would provide: the options kafka.ssl
 * and kafka.saslMechanism offer must be in the build.
 */
describeWithRdkafka('librdkafka build', () => {
  it('supports TLS and SASL PLAIN and SCRAM', () => {
    expect(rdkafkaBinding!.features).toEqual(expect.arrayContaining(['ssl', 'sasl', 'sasl_plain', 'sasl_scram']));
  });
});
