import { describe, expect, it } from '@jest/globals';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['90', 90],
    ['90s', 90],
    ['15m', 900],
    ['24h', 86400],
    ['14d', 1209600],
    [' 5m ', 300],
  ])('reads %p as %p seconds', (input, seconds) => {
    expect(parseDuration(input)).toBe(seconds);
  });

  it.each(['', 'm', '1.5h', '-1s', '10w', '1 hour'])('refuses %p', (input) => {
    expect(parseDuration(input)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [1, '1s'],
    [90, '90s'],
    [60, '1m'],
    [3600, '1h'],
    [5400, '90m'],
    [86400, '1d'],
    [31536000, '365d'],
  ])('writes %p seconds as %p, which reads back', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
    expect(parseDuration(text)).toBe(seconds);
  });
});
