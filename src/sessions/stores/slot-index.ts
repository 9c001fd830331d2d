/**
 * Finds slots by a fixed-width byte key that the caller keeps at `slot * width` in its own buffer:
 * an open-addressing table of slot numbers with linear probing, so a million keys cost a few bytes
 * each and no object per key. Removal shifts the entries after it back, so no tombstones build up.
 */
export class SlotIndex {
  /** Slot + 1 per bucket; 0 is empty. Kept at most half full. */
  private table = new Int32Array(1024);
  private size = 0;

  constructor(
    private readonly width: number,
    private readonly keys: () => Uint8Array,
  ) {}

  /** The slot whose key equals `key[offset, offset + width)`, or -1. */
  find(key: Uint8Array, offset = 0): number {
    const mask = this.table.length - 1;
    for (let bucket = this.hash(key, offset) & mask; ; bucket = (bucket + 1) & mask) {
      const entry = this.table[bucket];
      if (entry === 0) return -1;
      if (this.equals(entry - 1, key, offset)) return entry - 1;
    }
  }

  /** Adds a slot whose key is already in the caller's buffer (and is in no other slot). */
  insert(slot: number): void {
    if ((this.size + 1) * 2 > this.table.length) this.grow();
    this.place(slot);
    this.size += 1;
  }

  remove(slot: number): void {
    const mask = this.table.length - 1;
    let bucket = this.hash(this.keys(), slot * this.width) & mask;
    while (this.table[bucket] !== slot + 1) {
      if (this.table[bucket] === 0) return;
      bucket = (bucket + 1) & mask;
    }
    this.table[bucket] = 0;
    this.size -= 1;
    // Move back every entry of the run after the hole that may no longer be reached past it.
    for (let next = (bucket + 1) & mask; this.table[next] !== 0; next = (next + 1) & mask) {
      const entry = this.table[next];
      this.table[next] = 0;
      this.place(entry - 1);
    }
  }

  private place(slot: number): void {
    const mask = this.table.length - 1;
    let bucket = this.hash(this.keys(), slot * this.width) & mask;
    while (this.table[bucket] !== 0) bucket = (bucket + 1) & mask;
    this.table[bucket] = slot + 1;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    for (const entry of old) if (entry !== 0) this.place(entry - 1);
  }

  /** FNV-1a over the key's bytes. */
  private hash(key: Uint8Array, offset: number): number {
    let hash = 0x811c9dc5;
    for (let i = offset; i < offset + this.width; i++) hash = Math.imul(hash ^ key[i], 0x01000193);
    return hash >>> 0;
  }

  private equals(slot: number, key: Uint8Array, offset: number): boolean {
    const keys = this.keys();
    const start = slot * this.width;
    for (let i = 0; i < this.width; i++) if (keys[start + i] !== key[offset + i]) return false;
    return true;
  }
}
