import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { findFreePort } from '@walaudit/pg';
import { tempDir } from './temp-dir.js';

export interface LocalRedis {
  url: string;
  port: number;
  /** Stops the server (SIGTERM, no save); resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * A throwaway Debian `redis-server` on a free port, no persistence, for one test file. The tests
 * of alert windows and restore jobs run against the real server, never a mock.
 */
export async function startLocalRedis(): Promise<LocalRedis> {
  const port = await findFreePort();
  const dir = tempDir('redis');
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (error) => reject(new Error(`cannot start redis-server (apt-get install redis-server): ${error.message}`))),
  );
  await Promise.race([waitForPing(port, 10_000, () => stderr), spawnError]);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitForPing(port: number, timeoutMs: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ping(port)) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms: ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
