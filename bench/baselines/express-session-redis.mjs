// For orientation: the stock Express answer, express-session with connect-redis (cookie sessions).
// POST /login starts a session for the email it is given; GET /users/me answers from the session.
import { randomUUID } from 'node:crypto';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { createClient } from 'redis';

const client = createClient({ url: process.env.REDIS_URL });
await client.connect();

const app = express();
app.disable('x-powered-by');
app.use(
  session({
    store: new RedisStore({ client, prefix: process.env.REDIS_KEY_PREFIX }),
    secret: randomUUID(),
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'strict', maxAge: 24 * 3600 * 1000 },
  }),
);
app.post('/login', express.json(), (request, response) => {
  request.session.user = { id: randomUUID(), email: String(request.body?.email) };
  response.json({ ok: true });
});
app.get('/users/me', (request, response) => {
  if (!request.session.user) return response.status(401).json({ title: 'unauthenticated' });
  response.json(request.session.user);
});
app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
// A normal exit on SIGTERM, so `node --cpu-prof` writes its profile.
process.once('SIGTERM', () => process.exit(0));
