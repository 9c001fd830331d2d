import { isIP } from 'node:net';

/** Express's "trust proxy" setting, in the forms TRUST_PROXY accepts. */
export type TrustProxy = boolean | number | string[];

/** Express's (proxy-addr's) names for the loopback, link-local and unique-local ranges. */
const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * Reads TRUST_PROXY: `true` or `false`, a number of hops, or a comma-separated list of addresses,
 * CIDR subnets and named ranges. Undefined when the value is none of these, so that validation
 * refuses it instead of Express throwing at start-up.
 */
export function parseTrustProxy(value: string): TrustProxy | undefined {
  const text = value.trim();
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^\d+$/.test(text)) return Number(text);
  const entries = text.split(',').map((entry) => entry.trim());
  return entries.every(isTrustedEntry) ? entries : undefined;
}

/** The first entry of a TRUST_PROXY list that is neither an address, a subnet nor a named range. */
export const badTrustProxyEntry = (value: string): string | undefined =>
  value
    .split(',')
    .map((entry) => entry.trim())
    .find((entry) => !isTrustedEntry(entry));

function isTrustedEntry(entry: string): boolean {
  if (NAMED_RANGES.includes(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  // proxy-addr refuses a /0 ("trust everyone" is `true`).
  return (
    prefix === undefined ||
    (/^\d{1,3}$/.test(prefix) &&
      Number(prefix) >= 1 &&
      Number(prefix) <= (version === 4 ? 32 : 128))
  );
}
