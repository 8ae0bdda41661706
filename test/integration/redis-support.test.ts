import { createConnection } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startLocalRedis } from '../support/redis.js';

function command(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write(`${line}\r\n`));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once('error', reject);
  });
}

describe('local redis-server for tests', () => {
  it('starts on a free port, answers, and stops', async () => {
    const redis = await startLocalRedis();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await command(redis.port, 'SET walaudit probe')).toBe('+OK\r\n');
    expect(await command(redis.port, 'GET walaudit')).toBe('$5\r\nprobe\r\n');
    await redis.stop();
    await expect(command(redis.port, 'PING')).rejects.toThrow(/ECONNREFUSED/);
  });
});
