import { describe, expect, it } from '@jest/globals';
import { clientBucket } from './client-ip.js';

describe('clientBucket', () => {
  it('keeps an IPv4 address, also one that arrives IPv4-mapped', () => {
    expect(clientBucket('203.0.113.7')).toBe('203.0.113.7');
    expect(clientBucket('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientBucket('::FFFF:203.0.113.7')).toBe('203.0.113.7');
    expect(clientBucket('::ffff:cb00:7107')).toBe('203.0.113.7');
  });

  it('buckets what only looks IPv4-mapped as the IPv6 address it is', () => {
    expect(clientBucket('::ffff:203.0.113.700')).toBe('unknown');
    expect(clientBucket('1::ffff:203.0.113.7')).toBe('1:0:0:0::/64');
  });

  it('puts every address of an IPv6 /64 in one bucket, and none of the next', () => {
    const bucket = clientBucket('2001:db8:1:2::1');
    expect(bucket).toBe('2001:db8:1:2::/64');
    expect(clientBucket('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe(bucket);
    expect(clientBucket('2001:0DB8:0001:0002:0:0:0:9')).toBe(bucket);
    expect(clientBucket('2001:db8:1:3::1')).not.toBe(bucket);
  });

  it('has one bucket for a missing or unparseable address', () => {
    expect(clientBucket(undefined)).toBe('unknown');
    expect(clientBucket('not an address')).toBe('unknown');
  });
});
