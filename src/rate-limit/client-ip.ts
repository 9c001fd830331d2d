import ipaddr from 'ipaddr.js';
import { isIPv4 } from 'node:net';

/** How an IPv4 client arrives on a dual-stack socket. */
const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * The bucket of a client address for rate limiting: an IPv4 address itself (also when it arrives
 * IPv4-mapped, `::ffff:a.b.c.d`), an IPv6 address by its /64, since one subscriber usually holds a
 * whole /64 and could rotate through it at will.
 */
export function clientBucket(ip: string | undefined): string {
  // Every request comes here: the common forms skip ipaddr's general parser, with the same result.
  if (ip && isIPv4(ip)) return ip;
  const mapped = ip && IPV4_MAPPED.exec(ip)?.[1];
  if (mapped && isIPv4(mapped)) return mapped;
  if (!ip || !ipaddr.isValid(ip)) return 'unknown';
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.toString();
  const parts = (address as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((part) => part.toString(16)).join(':')}::/64`;
}
