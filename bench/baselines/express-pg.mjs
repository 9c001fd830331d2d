// The hand-written baseline: Express 5, bearer → SHA-256 → one JOIN of sessions and users through
// pg, the same credential-version rule as the service, and the user as JSON.
import { createHash } from 'node:crypto';
import express from 'express';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const BEARER = /^Bearer +(\S+) *$/i;
const QUERY = {
  name: 'bench-session-user',
  text: `SELECT u.id, u.email, u.name, u.email_verified, u.role, u.created_at, u.updated_at
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.token_digest = $1 AND s.expires_at > now()
            AND s.credential_version = u.credential_version`,
};

const app = express();
app.disable('x-powered-by');
app.get('/users/me', async (request, response) => {
  const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
  if (!token) return response.status(401).json({ title: 'unauthenticated' });
  const digest = createHash('sha256').update(token, 'utf8').digest('hex');
  const { rows } = await pool.query({ ...QUERY, values: [digest] });
  if (rows.length === 0) return response.status(401).json({ title: 'invalid_token' });
  const user = rows[0];
  response.json({
    id: user.id,
    email: user.email,
    name: user.name,
    emailVerified: user.email_verified,
    role: user.role,
    createdAt: user.created_at,
    updatedAt: user.updated_at,
  });
});
app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
// A normal exit on SIGTERM, so `node --cpu-prof` writes its profile.
process.once('SIGTERM', () => process.exit(0));
