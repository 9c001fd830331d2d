import pg from 'pg';

/** Name of the variable through which global setup hands the fresh database to every test file. */
export const E2E_DATABASE_URL = 'LATCHKEY_E2E_DATABASE_URL';

export const databaseName = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1));

export const withDatabase = (url: string, name: string) => {
  const next = new URL(url);
  next.pathname = `/${encodeURIComponent(name)}`;
  return next.toString();
};

/** Runs statements on the server of `url` (as its own database) with a short-lived client. */
export async function onServer(url: string, ...statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}
