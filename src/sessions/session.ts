/** A server-side session as every SessionStore keeps it. The plaintext token is never stored. */
export interface Session {
  /** Public id (UUID): safe to show and to address the session by; unrelated to the token. */
  id: string;
  userId: string;
  /** Hex SHA-256 of the token string exactly as issued. */
  tokenDigest: string;
  /**
   * The user's credential version when the session was made. The guard accepts the session only
   * while it equals the user's current one, so a password change (or any change that must end
   * sessions) ends it even if the store was never told.
   */
  credentialVersion: number;
  createdAt: Date;
  lastUsedAt: Date;
  /** The sooner of the idle bound (lastUsedAt + idle TTL) and absoluteExpiresAt. */
  expiresAt: Date;
  absoluteExpiresAt: Date;
  ip: string | null;
  userAgent: string | null;
}
