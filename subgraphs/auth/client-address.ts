import ipaddr from 'ipaddr.js';

/**
 * The key a client address is rate-limited under: an IPv4 address as it is (also when written as
 * IPv4-mapped IPv6, `::ffff:a.b.c.d`), an IPv6 address by its /64, since one subscriber usually holds a
 * whole /64 and could otherwise spread requests over 2^64 addresses. Anything else is kept as given.
 */
export function rateLimitKeyOf(address: string): string {
  const bare = address.trim().replace(/^\[(.*)\]$/, '$1');
  if (!ipaddr.isValid(bare)) return address.slice(0, 64);
  const parsed = ipaddr.process(bare);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const groups = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${groups.map((group) => group.toString(16)).join(':')}::/64`;
}
