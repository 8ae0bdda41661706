import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Prefix of walaudit API tokens: secret scanners and people can recognise one. */
const PREFIX = 'wat_';

/**
 * A new token: 32 random bytes. Only its SHA-256 is stored: with 256 bits of entropy nobody can
 * find a token from its hash, so a slow password hash (bcrypt, scrypt) would buy nothing and cost
 * every request its time.
 */
export function newApiToken(): { token: string; id: string; hash: string } {
  const token = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, id: randomBytes(6).toString('hex'), hash: hashApiToken(token) };
}

export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Compares two hex hashes in constant time. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

/** The token of an `Authorization: Bearer ...` header; undefined without one. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
