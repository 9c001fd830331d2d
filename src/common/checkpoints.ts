import { Injectable } from '@nestjs/common';

/** The points where an account flow may be held, named by flow and step. */
export type Checkpoint =
  /** A login has checked the password and is about to start the session. */
  | 'login:password-checked'
  /** A change of an account has read the account and is about to write it. */
  | 'account:read'
  /** A session's write holds its fence and found the session live (subject: the user id). */
  | 'session:write-checked'
  /** A use of a mailed token (subject: its digest) is in its transaction, about to consume it. */
  | 'token:consuming';

/**
 * Named points in the account flows where a race test holds one side until the other has
 * committed, so the interleaving it asserts on is forced, not hoped for. In the app every
 * checkpoint passes at once; tests override this provider.
 */
@Injectable()
export class Checkpoints {
  async reach(_checkpoint: Checkpoint, _subject: string): Promise<void> {}
}
