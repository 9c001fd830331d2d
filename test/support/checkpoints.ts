import { type Checkpoint, Checkpoints } from '../../src/common/checkpoints.js';

/** Everything that arrives at one held checkpoint waits there until the test releases it. */
export class Hold {
  private arrived = 0;
  private readonly watchers: { count: number; resolve: () => void }[] = [];
  private open!: () => void;
  private readonly opened = new Promise<void>((resolve) => (this.open = resolve));

  arrive(): Promise<void> {
    this.arrived += 1;
    for (const watcher of this.watchers.filter((each) => each.count <= this.arrived)) {
      watcher.resolve();
    }
    return this.opened;
  }

  /** Resolves once `count` flows are waiting here. */
  waiting(count: number): Promise<void> {
    if (this.arrived >= count) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ count, resolve }));
  }

  release(): void {
    this.open();
  }
}

/**
 * Replaces the app's Checkpoints: a test holds a checkpoint (for one subject, such as a user id),
 * starts the flows it races, waits until they are all held, does the other side, then releases.
 */
export class TestCheckpoints extends Checkpoints {
  private readonly holds = new Map<string, Hold>();
  private readonly failures = new Map<string, Error>();

  hold(checkpoint: Checkpoint, subject: string): Hold {
    const hold = new Hold();
    this.holds.set(`${checkpoint} ${subject}`, hold);
    return hold;
  }

  /** Flows that reach this checkpoint throw `error`: an unexpected failure, for tests of the 500. */
  fail(checkpoint: Checkpoint, subject: string, error: Error): void {
    this.failures.set(`${checkpoint} ${subject}`, error);
  }

  override async reach(checkpoint: Checkpoint, subject: string): Promise<void> {
    const failure = this.failures.get(`${checkpoint} ${subject}`);
    if (failure) throw failure;
    const hold = this.holds.get(`${checkpoint} ${subject}`);
    if (hold) await hold.arrive();
  }

  /** Lets everything through again (after a test, so the next starts clean). */
  releaseAll(): void {
    for (const hold of this.holds.values()) hold.release();
    this.holds.clear();
    this.failures.clear();
  }
}
