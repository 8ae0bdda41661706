import { describe, expect, it } from 'vitest';
import { isRegistryUnreachable, registryEndpoint } from './schema-registry.js';

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

describe('registryEndpoint', () => {
  it('takes the credentials out of the URL, so that no error message shows them', () => {
    expect(registryEndpoint('https://siem%40corp:s3cr%2Ft@registry.example:8081/apis/ccompat/v7/')).toEqual({
      url: 'https://registry.example:8081/apis/ccompat/v7',
      auth: { username: 'siem@corp', password: 's3cr/t' },
    });
  });

  it('leaves a URL without credentials as it is, but for a trailing slash', () => {
    expect(registryEndpoint('http://registry:8081/')).toEqual({ url: 'http://registry:8081' });
    expect(registryEndpoint('http://registry:8081')).toEqual({ url: 'http://registry:8081' });
  });
});
