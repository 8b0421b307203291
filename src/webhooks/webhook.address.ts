import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses a webhook may not reach in production unless WEBHOOK_ALLOW_PRIVATE=true
 * (server-side request forgery): loopback, private, link-local, unspecified, CGNAT and
 * IPv6 unique-local, also as IPv4-mapped IPv6.
 */
const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.168.0.0', 16], ['198.18.0.0', 15],
] as const) {
  blocked.addSubnet(net, bits, 'ipv4');
  blocked.addSubnet(`::ffff:${net}`, 96 + bits, 'ipv6');
}
blocked.addAddress('::', 'ipv6');
blocked.addAddress('::1', 'ipv6');
blocked.addSubnet('fc00::', 7, 'ipv6');
blocked.addSubnet('fe80::', 10, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Why `url` is refused as a webhook's, or null. DNS names are resolved: every address must be public. */
export async function urlProblem(url: string, allowPrivate: boolean): Promise<string | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must be an http or https URL';
  if (parsed.username || parsed.password) return 'must not carry a user or password';
  if (allowPrivate) return null;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      return `its host ${host} does not resolve`;
    }
  }
  if (addresses.some(isPrivateAddress)) return 'must not point to a loopback, private or link-local address (WEBHOOK_ALLOW_PRIVATE=true allows it)';
  return null;
}
