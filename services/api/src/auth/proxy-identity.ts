import { BlockList, isIP } from 'node:net';
import { WalauditError, type ApiRole, type WalauditConfig } from '@walaudit/core';
import type { Principal } from './principal.js';

export type ProxyIdentity = (remoteAddress: string | undefined, headers: Record<string, string | string[] | undefined>) => Principal | null;

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function trustedList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', bits] = cidr.split('/');
    const family = isIP(address);
    if (family === 0) throw new WalauditError('CONFIG_INVALID', `http.trustedProxies: "${cidr}" is not an address or CIDR (10.0.0.0/8, ::1/128)`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) throw new WalauditError('CONFIG_INVALID', `http.trustedProxies: "${cidr}" has a bad prefix length`);
    list.addSubnet(address, prefix, type);
  }
  return list;
}

/**
 * The user a trusted reverse proxy (oauth2-proxy and the like) vouches for. Its headers are read
 * only from the configured proxy addresses: from anyone else they are ignored, since anyone can
 * send them. A proxied user whose groups map to no role is refused, not demoted to anonymous.
 */
export function createProxyIdentity(http: WalauditConfig['http']): ProxyIdentity {
  if (http.trustedProxies.length === 0) return () => null;
  const trusted = trustedList(http.trustedProxies);
  const userHeader = http.proxyUserHeader.toLowerCase();
  const groupsHeader = http.proxyGroupsHeader.toLowerCase();
  return (remoteAddress, headers) => {
    if (!remoteAddress) return null;
    const address = plainAddress(remoteAddress);
    if (!trusted.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6')) return null;
    const user = [headers[userHeader]].flat()[0]?.trim();
    if (!user) return null;
    const groups = [headers[groupsHeader]].flat().filter((value): value is string => typeof value === 'string').flatMap((value) => value.split(',')).map((group) => group.trim()).filter(Boolean);
    const role: ApiRole | null = groups.some((group) => http.managerGroups.includes(group)) ? 'manager' : groups.some((group) => http.viewerGroups.includes(group)) ? 'viewer' : null;
    if (!role) {
      throw new WalauditError('API_FORBIDDEN', `${user} is signed in through the proxy, but none of the groups (${groups.join(', ') || 'none sent'}) is in http.managerGroups or http.viewerGroups`);
    }
    return { name: user, role, via: 'proxy' };
  };
}
