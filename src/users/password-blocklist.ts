import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * The most common passwords, most frequent first: zxcvbn's list (about 49,000 entries, drawn from
 * leaked password corpora), as the npm package @zxcvbn-ts/language-common ships it. Compared
 * case-insensitively, so `Password123` is as refused as `password123`.
 */
const COMMON = new Set(dictionary['passwords-common'].map((password) => password.toLowerCase()));

/** The service's own name: a password built on it is among the first an attacker tries. */
export const SERVICE_NAME = 'latchkey';

/** Local parts shorter than this are too common as substrings to refuse passwords for. */
const MIN_LOCAL_PART = 3;

const localPart = (email: string) => email.trim().toLowerCase().split('@')[0] ?? '';

/**
 * Why a new password is refused (NIST SP 800-63B-4's blocklist: common, expected or compromised
 * values, and context-specific words), or undefined. `emails` are the account's addresses, whose
 * local parts the password must not contain.
 */
export function blocklistReason(password: string, emails: string[] = []): string | undefined {
  const folded = password.toLowerCase();
  if (COMMON.has(folded)) return 'is one of the most common passwords; choose another';
  if (folded.includes(SERVICE_NAME)) return 'must not contain the name of this service';
  const ownName = emails
    .map(localPart)
    .find((local) => [...local].length >= MIN_LOCAL_PART && folded.includes(local));
  if (ownName !== undefined) return 'must not contain the name part of your email address';
  return undefined;
}

/** How many passwords the common list holds (the documentation and a test say at least 10,000). */
export const COMMON_PASSWORDS = COMMON.size;
