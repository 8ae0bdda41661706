import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { describeError, WalauditError } from '@walaudit/core';

const REGISTRY_JSON = 'application/vnd.schemaregistry.v1+json';

/**
 * A registry URL as users write it, credentials included (`https://user:secret@registry:8081`):
 * the address without them, for messages and requests, and the credentials apart.
 */
export interface RegistryEndpoint {
  /** The URL without credentials or trailing slash: what errors name. */
  url: string;
  auth?: { username: string; password: string };
}

export function registryEndpoint(raw: string): RegistryEndpoint {
  const parsed = new URL(raw);
  const auth = parsed.username ? { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) } : undefined;
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString().replace(/\/+$/, ''), ...(auth ? { auth } : {}) };
}

/** The client that encodes and decodes by schema id (it caches the registry's answers). */
export function registryClient(endpoint: RegistryEndpoint): SchemaRegistry {
  return new SchemaRegistry({ host: endpoint.url, ...(endpoint.auth ? { auth: endpoint.auth } : {}) });
}

interface RegistryAnswer {
  status: number;
  ok: boolean;
  text: string;
  body: { id?: unknown; message?: unknown } | unknown[];
}

/** One request to the Confluent API; a network failure throws KAFKA_UNREACHABLE naming `doing`. */
async function registryRequest(endpoint: RegistryEndpoint, method: 'GET' | 'POST', path: string, doing: string, body?: unknown): Promise<RegistryAnswer> {
  const headers: Record<string, string> = { accept: `${REGISTRY_JSON}, application/json` };
  if (body !== undefined) headers['content-type'] = REGISTRY_JSON;
  if (endpoint.auth) headers.authorization = `Basic ${Buffer.from(`${endpoint.auth.username}:${endpoint.auth.password}`).toString('base64')}`;
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${endpoint.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    text = await response.text();
  } catch (error) {
    throw registryError(error, endpoint.url, doing);
  }
  let parsed: RegistryAnswer['body'] = {};
  try {
    parsed = JSON.parse(text) as RegistryAnswer['body'];
  } catch {
    // An answer that is not JSON (a proxy's error page): its status says enough.
  }
  return { status: response.status, ok: response.ok, text, body: parsed };
}

const NOT_THE_API = ' (is it the Confluent-compatible API? Apicurio serves it under /apis/ccompat/v7)';

/** What the registry said; a 404 on the API's own paths means the URL is not the API's root. */
function answerError(answer: RegistryAnswer, endpoint: RegistryEndpoint, doing: string): WalauditError {
  const message = !Array.isArray(answer.body) && typeof answer.body.message === 'string' ? answer.body.message : answer.text.slice(0, 300);
  const hint = answer.status === 404 ? NOT_THE_API : '';
  return registryError(Object.assign(new Error(`HTTP ${answer.status}: ${message}${hint}`), { status: answer.status }), endpoint.url, doing);
}

/**
 * Registers an Avro schema under `subject` and returns its id (the same id when it is already
 * there). The registry alone judges compatibility with what the subject holds, by the level its
 * owners set: walaudit neither checks nor changes that level (the registry client's own register()
 * refuses any subject not set to BACKWARD, and sets BACKWARD on a new one).
 */
export async function registerAvroSchema(endpoint: RegistryEndpoint, subject: string, schema: object): Promise<number> {
  const doing = `registering the change-event schema under ${subject}`;
  const answer = await registryRequest(endpoint, 'POST', `/subjects/${encodeURIComponent(subject)}/versions`, doing, { schema: JSON.stringify(schema) });
  if (!answer.ok) throw answerError(answer, endpoint, doing);
  const id = Array.isArray(answer.body) ? undefined : answer.body.id;
  if (typeof id !== 'number') throw new WalauditError('KAFKA_FAILED', `${doing}: schema registry ${endpoint.url} answered without a schema id: ${answer.text.slice(0, 300)}`);
  return id;
}

/**
 * Checks at start that the URL is a Confluent-compatible API that lets us in, so that a wrong path
 * or refused credentials stop the writer with a message, instead of every message later getting a
 * 404 or 401 (a 404 for a schema id is taken as a message no walaudit reader wrote).
 */
export async function checkRegistry(endpoint: RegistryEndpoint): Promise<void> {
  const doing = 'checking the Confluent API (GET /subjects)';
  const answer = await registryRequest(endpoint, 'GET', '/subjects', doing);
  if (!answer.ok) throw answerError(answer, endpoint, doing);
  if (!Array.isArray(answer.body)) throw new WalauditError('KAFKA_FAILED', `${doing}: schema registry ${endpoint.url} answered something else than a list of subjects${NOT_THE_API}`);
}

/**
 * Whether a registry failure may pass by itself (retried) or is an answer (a 404 for an unknown
 * schema id: the message is a dead letter, not a reason to stop the partition). The client's
 * ResponseError carries the HTTP status; a network failure has none, or its message says so.
 */
export function isRegistryUnreachable(error: unknown): boolean {
  const { code, status, cause } = (error ?? {}) as { code?: unknown; status?: unknown; cause?: { code?: unknown } };
  if (/ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|TimeoutError|socket hang up|fetch failed/i.test(`${String(code ?? '')} ${String(cause?.code ?? '')} ${describeError(error)}`)) return true;
  return typeof status === 'number' && (status >= 500 || status === 408 || status === 429);
}

export function registryError(error: unknown, url: string, doing: string): WalauditError {
  const retriable = isRegistryUnreachable(error);
  // fetch says only 'fetch failed'; what failed (ECONNREFUSED, a certificate) is in its cause.
  const cause = (error as { cause?: unknown } | null)?.cause;
  const detail = cause instanceof Error ? `${describeError(error)} (${cause.message})` : describeError(error);
  return new WalauditError(retriable ? 'KAFKA_UNREACHABLE' : 'KAFKA_FAILED', `${doing}: schema registry ${url}: ${detail}`, { cause: error, retriable });
}
