/** A server-side session as every SessionStore keeps it. The plaintext token is never stored. */
export interface Session {
  /** Public id (UUID): safe to show and to address the session by; unrelated to the token. */
  id: string;
  userId: string;
  /** Hex SHA-256 of the token string exactly as issued. */
  tokenDigest: string;
  createdAt: Date;
  lastUsedAt: Date;
  /** The sooner of the idle bound (lastUsedAt + idle TTL) and absoluteExpiresAt. */
  expiresAt: Date;
  absoluteExpiresAt: Date;
  ip: string | null;
  userAgent: string | null;
}
