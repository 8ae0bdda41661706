import { describe, expect, it } from 'vitest';
import { logFilterParams } from './log-command.js';

describe('logFilterParams', () => {
  it('passes --trace-id and every --tag, each tag its own parameter', () => {
    const params = logFilterParams({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', tag: ['user=ann', 'route=/a,b'] });
    expect(params.toString()).toBe('tag=user%3Dann&tag=route%3D%2Fa%2Cb&traceId=4bf92f3577b34da6a3ce929d0e0e4736');
  });
});
