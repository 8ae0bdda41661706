import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const NOT_BUILT = [
  'The walaudit web console is not built in this installation (its files are missing).',
  'Build it with `npm run build` in the walaudit checkout, then restart walaudit start.',
  'The HTTP API itself works: /api (documented at /api/docs).',
].join('\n');

/**
 * The web console (services/console's built files) at `/`: its assets need no token (they hold no
 * data; every /api route keeps its role), and any other path that is not an API path answers the
 * app's page, so a shared link to a client-side route (/log?table=orders) opens it.
 */
export async function registerConsole(app: FastifyInstance, dir: string | undefined): Promise<void> {
  const publicRoute = { config: { role: 'public' as const }, schema: { hide: true } };
  if (!dir || !existsSync(join(dir, 'index.html'))) {
    app.get('/', publicRoute, async (_request, reply) => reply.code(503).type('text/plain; charset=utf-8').send(NOT_BUILT));
    return;
  }
  await app.register(fastifyStatic, { root: dir, serve: false });
  // The page names the current hashed assets: always asked again, so a new build is picked up.
  const page = (_request: FastifyRequest, reply: FastifyReply) => reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
  app.get('/', publicRoute, page);
  // Hashed names: a file's content never changes under its name.
  app.get('/assets/*', publicRoute, (request, reply) => reply.sendFile(`assets/${(request.params as { '*': string })['*']}`, { maxAge: '365d', immutable: true }));
  app.get('/*', publicRoute, async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (path.startsWith('/api/') || path === '/api') return reply.callNotFound();
    if (/\.[a-z0-9]+$/i.test(path)) return reply.sendFile(path.slice(1));
    return page(request, reply);
  });
}
