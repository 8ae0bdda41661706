import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createSocket } from 'node:dgram';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A local HTTP server that records every POSTed JSON body: the webhook and PagerDuty endpoint of tests. */
export interface HttpPeer {
  url: string;
  bodies: unknown[];
  /** Answer with this status (and count the requests) instead of 200. */
  respondWith: number;
  /** Hold each request this long before answering (a slow or hanging endpoint). */
  delayMs: number;
  requests: number;
  /** Resolves once at least `count` bodies arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<unknown[]>;
  close(): Promise<void>;
}

export async function startHttpPeer(): Promise<HttpPeer> {
  const waiters: Array<() => void> = [];
  const peer: HttpPeer = {
    url: '',
    bodies: [],
    respondWith: 200,
    delayMs: 0,
    requests: 0,
    waitFor: (count, timeoutMs = 30_000) => waitUntil(() => peer.bodies.length >= count, timeoutMs, waiters, () => `${peer.bodies.length} of ${count} bodies`).then(() => peer.bodies),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    void readBody(request).then(async (text) => {
      peer.requests++;
      if (peer.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, peer.delayMs));
      if (peer.respondWith < 300) {
        peer.bodies.push(JSON.parse(text));
        for (const wake of waiters.splice(0)) wake();
      }
      response.writeHead(peer.respondWith, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  peer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const close = peer.close;
  peer.close = () => {
    server.closeAllConnections();
    return close();
  };
  return peer;
}

/** A local syslog listener on UDP and TCP (octet counting), on one free port number each. */
export interface SyslogPeer {
  udpPort: number;
  tcpPort: number;
  messages: string[];
  waitFor(count: number, timeoutMs?: number): Promise<string[]>;
  close(): Promise<void>;
}

export async function startSyslogPeer(): Promise<SyslogPeer> {
  const waiters: Array<() => void> = [];
  const messages: string[] = [];
  const push = (message: string) => {
    messages.push(message);
    for (const wake of waiters.splice(0)) wake();
  };
  const udp = createSocket('udp4');
  udp.on('message', (data) => push(data.toString('utf8')));
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
  const tcp = createTcpServer((socket) => {
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const space = buffer.indexOf(0x20);
        if (space < 0) return;
        const length = Number(buffer.subarray(0, space).toString());
        if (buffer.length < space + 1 + length) return;
        push(buffer.subarray(space + 1, space + 1 + length).toString('utf8'));
        buffer = buffer.subarray(space + 1 + length);
      }
    });
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve()));
  return {
    udpPort: (udp.address() as AddressInfo).port,
    tcpPort: (tcp.address() as AddressInfo).port,
    messages,
    waitFor: (count, timeoutMs = 30_000) => waitUntil(() => messages.length >= count, timeoutMs, waiters, () => `${messages.length} of ${count} messages`).then(() => messages),
    close: async () => {
      udp.close();
      await new Promise((resolve) => tcp.close(() => resolve(undefined)));
    },
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    request.on('end', () => resolve(text));
  });
}

async function waitUntil(done: () => boolean, timeoutMs: number, waiters: Array<() => void>, progress: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms: ${progress()}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(left, 200));
      waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
