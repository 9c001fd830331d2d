import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { SlotIndex } from './slot-index.js';

const WIDTH = 4;

/** Keys in a buffer of their own, as the store keeps them, with a plain Map to check against. */
function setUp(slots: number) {
  const keys = new Uint8Array(slots * WIDTH);
  const index = new SlotIndex(WIDTH, () => keys);
  const key = (slot: number) => keys.subarray(slot * WIDTH, (slot + 1) * WIDTH);
  return { keys, index, key };
}

describe('SlotIndex', () => {
  it('finds every inserted slot by its key and nothing else, through growth', () => {
    const { keys, index, key } = setUp(5000);
    keys.set(randomBytes(keys.length));
    for (let slot = 0; slot < 5000; slot++) index.insert(slot);
    for (let slot = 0; slot < 5000; slot++) expect(index.find(key(slot))).toBe(slot);
    expect(index.find(Uint8Array.of(1, 2, 3, 4))).toBe(
      [...Array(5000).keys()].find((slot) => key(slot).join() === '1,2,3,4') ?? -1,
    );
  });

  it('keeps finding the others after removals in any order, including within a run of collisions', () => {
    // Only the first byte varies: few distinct hashes, long probe runs, many shifts on removal.
    const { keys, index, key } = setUp(600);
    for (let slot = 0; slot < 600; slot++) keys.set([slot % 7, 0, 0, slot >> 8], slot * WIDTH);
    for (let slot = 0; slot < 600; slot++) keys[slot * WIDTH + 2] = slot & 255;
    const live = new Set<number>();
    for (let slot = 0; slot < 600; slot++) {
      index.insert(slot);
      live.add(slot);
    }
    const order = [...live].sort(() => Math.random() - 0.5);
    for (const removed of order.slice(0, 400)) {
      index.remove(removed);
      live.delete(removed);
      expect(index.find(key(removed))).toBe(-1);
    }
    for (const slot of live) expect(index.find(key(slot))).toBe(slot);
    // Removed slots can come back.
    for (const slot of order.slice(0, 50)) index.insert(slot);
    for (const slot of order.slice(0, 50)) expect(index.find(key(slot))).toBe(slot);
  });

  it('ignores the removal of a slot it does not hold', () => {
    const { index, key, keys } = setUp(2);
    keys.set([1, 1, 1, 1, 2, 2, 2, 2]);
    index.insert(0);
    index.remove(1);
    expect(index.find(key(0))).toBe(0);
  });
});
