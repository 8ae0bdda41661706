import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { exportStream } from './export-stream.js';

describe('exportStream over HTTP', () => {
  const apps: ReturnType<typeof Fastify>[] = [];
  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  async function serve(chunks: () => AsyncGenerator<string>, failures: string[]): Promise<string> {
    const app = Fastify();
    apps.push(app);
    app.get('/export', async (_request, reply) => reply.type('text/csv').send(exportStream(chunks(), (message) => failures.push(message))));
    return app.listen({ port: 0, host: '127.0.0.1' });
  }

  it('sends every chunk and ends the body normally', async () => {
    const url = await serve(async function* () {
      yield 'a\r\n';
      yield 'b\r\n';
    }, []);
    const response = await fetch(`${url}/export`);
    expect(await response.text()).toBe('a\r\nb\r\n');
  });

  it('cuts the connection when the store fails after the first bytes: the client cannot take the file as complete', async () => {
    const failures: string[] = [];
    const url = await serve(async function* () {
      yield 'header\r\n';
      yield 'x'.repeat(100_000);
      throw new Error('store went away');
    }, failures);
    const response = await fetch(`${url}/export`);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow(/terminated/);
    expect(failures).toEqual(['export failed mid-stream, connection cut: store went away']);
  });

  it('reads a chunk only when the client has taken the previous one (backpressure)', async () => {
    let produced = 0;
    const url = await serve(async function* () {
      for (let index = 0; index < 1000; index++) {
        produced++;
        yield 'y'.repeat(1 << 20);
      }
    }, []);
    const response = await fetch(`${url}/export`);
    const reader = response.body!.getReader();
    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // A client that stopped reading holds the export at the socket's buffers: a few MiB, not 1 GiB.
    expect(produced).toBeLessThan(40);
    await reader.cancel();
  });
});
