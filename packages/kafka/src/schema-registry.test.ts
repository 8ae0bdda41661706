import { describe, expect, it } from 'vitest';
import { isRegistryUnreachable } from './avro-codec.js';

/** The shape of @kafkajs/confluent-schema-registry's ResponseError: a message and the HTTP status. */
const answered = (status: number, message: string) => Object.assign(new Error(message), { status });

describe('isRegistryUnreachable', () => {
  it('retries what passes by itself: no connection, a server error, a timeout, throttling', () => {
    expect(isRegistryUnreachable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8081'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isRegistryUnreachable(new Error('getaddrinfo ENOTFOUND registry'))).toBe(true);
    expect(isRegistryUnreachable(answered(503, 'Service Unavailable'))).toBe(true);
    expect(isRegistryUnreachable(answered(408, 'Request Timeout'))).toBe(true);
    expect(isRegistryUnreachable(answered(429, 'Too Many Requests'))).toBe(true);
  });

  it('takes an answer as final, whatever numbers its message holds', () => {
    expect(isRegistryUnreachable(answered(404, ' - No artifact with ID 1500 was found.'))).toBe(false);
    expect(isRegistryUnreachable(answered(409, 'Schema being registered is incompatible with an earlier schema; version 502'))).toBe(false);
    expect(isRegistryUnreachable(answered(401, 'Unauthorized'))).toBe(false);
    expect(isRegistryUnreachable(new Error('invalid Avro: 500 bytes missing'))).toBe(false);
  });
});
