// `npm run bench [-- --quick] [--rounds N] [--seconds S] [--connections C] [--sessions N]
// [--out DIR] [--no-profile] [--only KEY,KEY]`: the service against its baselines in one run on the production
// build. See the Performance section of the README for what is measured and how.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { argon2Throughput, load, loadClosed, loadSpread } from './lib/load.mjs';
import { summariseProfile } from './lib/profile.mjs';
import { RAISED_RATE_LIMITS } from '../scripts/raised-rate-limits.mjs';
import {
  REDIS_URL,
  RUN_ID,
  cleanUp,
  createDatabase,
  freePort,
  httpReady,
  logDir,
  redisPrefix,
  startProcess,
  stopProcess,
} from './lib/resources.mjs';
import {
  markdownTable,
  ratioChart,
  summarise,
  terminalTable,
  writeFormatted,
  writeResults,
} from './lib/report.mjs';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string', default: '50' },
    sessions: { type: 'string' },
    out: { type: 'string' },
    'no-profile': { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const quick = args.quick;
const options = {
  rounds: Number(args.rounds ?? (quick ? 1 : 3)),
  seconds: Number(args.seconds ?? (quick ? 2 : 10)),
  connections: Number(args.connections),
  /** Live sessions of the large memory-store case (the small one has 1,000). */
  sessions: Number(args.sessions ?? (quick ? 100_000 : 1_000_000)),
  warmupSeconds: quick ? 1 : 2,
  profile: !quick && !args['no-profile'],
};
// A quick run (CI) must not overwrite the committed results of a full one.
const outDir = args.out ?? (quick ? 'bench/results/quick' : 'bench/results');
/** Users (each with a token) per target, rotated over the requests. */
const USERS = quick ? 4 : 20;
const PASSWORD = 'bench passphrase, long enough';
const log = (...parts) => console.log(...parts);

const serviceEnv = (port, store, databaseUrl, prefix) => ({
  NODE_ENV: 'production',
  PORT: String(port),
  DATABASE_URL: databaseUrl,
  // Production refuses to start without a mail server; the worker is off, so nothing connects.
  SMTP_URL: 'smtp://127.0.0.1:9',
  MAIL_WORKER: 'off',
  ...RAISED_RATE_LIMITS,
  SESSION_STORE: store,
  REDIS_URL,
  REDIS_KEY_PREFIX: prefix,
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
});

const post = async (url, body, headers = {}) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  return response;
};

/** Registers `count` users on a running service and logs each in once: their tokens. */
function makeUsers(url, name, count) {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const email = `${name}-${i}-${RUN_ID}@bench.example`;
      await post(`${url}/auth/register`, { email, password: PASSWORD });
      const response = await post(`${url}/auth/login`, { email, password: PASSWORD });
      return (await response.json()).token;
    }),
  );
}

async function startService(name, store, databaseUrl, prefix, { nodeArgs = [], env = {} } = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = await startProcess(
    name,
    [...nodeArgs, 'dist/src/main.js'],
    { ...serviceEnv(port, store, databaseUrl, prefix), ...env },
    httpReady(`${url}/health/live`),
  );
  return { ...proc, url };
}

async function startPreloaded(name, databaseUrl, sessions) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = await startProcess(
    name,
    ['--expose-gc', '--max-old-space-size=8192', 'bench/lib/preloaded-service.mjs'],
    { ...serviceEnv(port, 'memory', databaseUrl, ''), BENCH_SESSIONS: String(sessions) },
    async (output) => output().includes('\nready') && (await httpReady(`${url}/health/live`)()),
    600_000,
  );
  const heap = JSON.parse(/BENCH_HEAP (.*)/.exec(proc.output())[1]);
  return { ...proc, url, heap: { ...heap, perSession: heap.bytes / heap.sessions } };
}

const bearer = (tokens) => (i) => ({
  method: 'GET',
  path: '/users/me',
  headers: { authorization: `Bearer ${tokens[i % tokens.length]}` },
});

/** Baselines and services, each on its own port and database; users and tokens made up front. */
async function setUp() {
  const [memoryDb, postgresDb, redisDb, baselineDb, smallDb, bigDb] = await Promise.all(
    ['memory', 'postgres', 'redis', 'express_pg', 'sessions_small', 'sessions_big'].map(
      createDatabase,
    ),
  );
  const redisPrefixName = redisPrefix('service');
  log(
    `Starting the baselines and services (run ${RUN_ID}; ${options.sessions.toLocaleString('en-US')} preloaded sessions take a while)`,
  );

  const baselineEnv = async () => ({ PORT: String(await freePort()) });
  const baseline = async (name, file, env) => {
    const own = { ...(await baselineEnv()), ...env };
    const url = `http://127.0.0.1:${own.PORT}`;
    const proc = await startProcess(name, [file], own, async (output) =>
      output().includes('ready'),
    );
    return { ...proc, url };
  };

  const expressPg = (async () => {
    // The baseline reads the service's schema, so the service's migrations make it.
    execFileSync(process.execPath, ['dist/src/database/migrate.js'], {
      env: { ...process.env, ...serviceEnv(0, 'postgres', baselineDb, '') },
      stdio: 'ignore',
    });
    const tokens = await seedBaseline(baselineDb);
    return {
      ...(await baseline('express-pg', 'bench/baselines/express-pg.mjs', {
        DATABASE_URL: baselineDb,
      })),
      tokens,
    };
  })();
  const expressSession = (async () => {
    const proc = await baseline('express-session', 'bench/baselines/express-session-redis.mjs', {
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix('express-session'),
    });
    const cookies = [];
    for (let i = 0; i < USERS; i++) {
      const response = await post(`${proc.url}/login`, { email: `u${i}@bench.example` });
      cookies.push(response.headers.get('set-cookie').split(';')[0]);
    }
    return { ...proc, cookies };
  })();
  const service = async (name, store, db) => {
    const proc = await startService(name, store, db, redisPrefixName);
    return { ...proc, tokens: await makeUsers(proc.url, name, USERS) };
  };
  const preloaded = async (name, db, sessions) => {
    const proc = await startPreloaded(name, db, sessions);
    return { ...proc, tokens: await makeUsers(proc.url, name, USERS) };
  };

  const [bare, pgBaseline, sessionBaseline, memory, postgres, redis, small, big] =
    await Promise.all([
      baseline('bare-http', 'bench/baselines/bare-http.mjs', {}),
      expressPg,
      expressSession,
      service('memory', 'memory', memoryDb),
      service('postgres', 'postgres', postgresDb),
      service('redis', 'redis', redisDb),
      preloaded('sessions-small', smallDb, 1000),
      preloaded('sessions-big', bigDb, options.sessions),
    ]);
  // The second instance shares the first's database and Redis, as a real deployment would.
  const redisB = await startService('redis-b', 'redis', redisDb, redisPrefixName, {
    env: { DB_MIGRATIONS_RUN: 'false' },
  });
  const loginEmails = await Promise.all(
    Array.from({ length: 4 }, async (_, i) => {
      const email = `login-${i}-${RUN_ID}@bench.example`;
      await post(`${memory.url}/auth/register`, { email, password: PASSWORD });
      return email;
    }),
  );
  return {
    bare,
    pgBaseline,
    sessionBaseline,
    memory,
    postgres,
    redis,
    redisB,
    small,
    big,
    loginEmails,
  };
}

/** Users and live sessions written straight into the baseline's database, with their tokens. */
async function seedBaseline(databaseUrl) {
  const { default: pg } = await import('pg');
  const { createHash } = await import('node:crypto');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const tokens = [];
  try {
    for (let i = 0; i < USERS; i++) {
      const token = `lk_${randomBytes(32).toString('base64url')}`;
      const digest = createHash('sha256').update(token).digest('hex');
      await client.query(
        `WITH u AS (INSERT INTO users (email, password_hash) VALUES ($1, 'not a hash') RETURNING id)
         INSERT INTO sessions (id, user_id, token_digest, credential_version, created_at, last_used_at,
                               expires_at, absolute_expires_at, ip, user_agent)
         SELECT gen_random_uuid(), u.id, $2, 0, now(), now(), now() + interval '1 day',
                now() + interval '14 days', '127.0.0.1', 'bench' FROM u`,
        [`baseline-${i}@bench.example`, digest],
      );
      tokens.push(token);
    }
  } finally {
    await client.end();
  }
  return tokens;
}

function defineTargets(s) {
  const { connections } = options;
  const http = (server, build) => (seconds) =>
    load({ url: server.url, connections, seconds, build });
  const slow = (server, build) => (seconds) =>
    loadClosed({ url: server.url, connections, seconds, build });
  const me = (server) => http(server, bearer(server.tokens));
  const argonEnv = serviceEnv(0, 'memory', 'postgres://unused@127.0.0.1/unused', '');
  const argon = (mode) => (seconds) =>
    argon2Throughput({ mode, seconds, concurrency: connections, env: argonEnv });
  let registered = 0;
  const goalMe = (ratio) => ({ ratio, p99Ratio: 1.3, text: `≥ ${ratio}× req/s, p99 ≤ 1.3×` });
  return [
    {
      key: 'bare',
      label: 'bare node:http (fixed body)',
      run: http(s.bare, () => ({ method: 'GET', path: '/users/me' })),
    },
    { key: 'express-pg', label: 'Express 5 + pg, one JOIN', run: me(s.pgBaseline) },
    {
      key: 'express-session',
      label: 'express-session + connect-redis',
      baseline: 'express-pg',
      run: http(s.sessionBaseline, (i) => ({
        method: 'GET',
        path: '/users/me',
        headers: { cookie: s.sessionBaseline.cookies[i % s.sessionBaseline.cookies.length] },
      })),
    },
    {
      key: 'me-memory',
      label: 'GET /users/me, memory store',
      baseline: 'express-pg',
      goal: goalMe(1.0),
      run: me(s.memory),
    },
    {
      key: 'me-postgres',
      label: 'GET /users/me, postgres store',
      baseline: 'express-pg',
      goal: goalMe(0.9),
      run: me(s.postgres),
    },
    {
      key: 'me-redis',
      label: 'GET /users/me, redis store',
      baseline: 'express-pg',
      goal: goalMe(0.9),
      run: me(s.redis),
    },
    {
      key: 'me-redis-x2',
      label: 'GET /users/me, redis store, 2 instances',
      baseline: 'me-redis',
      goal: { ratio: 1.6, text: '≥ 1.6× req/s' },
      run: (seconds) =>
        loadSpread({
          urls: [s.redis.url, s.redisB.url],
          connections,
          seconds,
          build: bearer(s.redis.tokens),
        }),
    },
    { key: 'argon2-verify', label: 'raw argon2id verify', run: argon('verify') },
    {
      key: 'login',
      label: 'POST /auth/login (memory store)',
      baseline: 'argon2-verify',
      goal: { ratio: 0.9, text: '≥ 0.9× req/s' },
      run: slow(s.memory, (i) => ({
        method: 'POST',
        path: '/auth/login',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          email: s.loginEmails[i % s.loginEmails.length],
          password: PASSWORD,
        }),
      })),
    },
    { key: 'argon2-hash', label: 'raw argon2id hash', run: argon('hash') },
    {
      key: 'register',
      label: 'POST /auth/register (memory store)',
      baseline: 'argon2-hash',
      goal: { ratio: 0.9, text: '≥ 0.9× req/s' },
      run: slow(s.memory, () => ({
        method: 'POST',
        path: '/auth/register',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          email: `new-${registered++}-${RUN_ID}@bench.example`,
          password: PASSWORD,
        }),
      })),
    },
    { key: 'me-1k', label: 'GET /users/me, 1k live sessions', run: me(s.small) },
    {
      key: 'me-big',
      label: `GET /users/me, ${options.sessions >= 1e6 ? `${options.sessions / 1e6}M` : `${options.sessions / 1e3}k`} live sessions`,
      baseline: 'me-1k',
      goal: { p99Ratio: 1.1, text: 'p99 ≤ 1.1×' },
      run: me(s.big),
    },
  ];
}

/** The memory-store service under --cpu-prof while it serves GET /users/me; the profile's summary. */
async function profileMemoryStore() {
  const dir = join(logDir, 'profile');
  mkdirSync(dir);
  const db = await createDatabase('profile');
  const proc = await startService('profile', 'memory', db, '', {
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir],
  });
  const tokens = await makeUsers(proc.url, 'profile', USERS);
  const run = (seconds) =>
    load({ url: proc.url, connections: options.connections, seconds, build: bearer(tokens) });
  await run(options.warmupSeconds);
  const now = () => Number(process.hrtime.bigint() / 1000n);
  const from = now();
  const measured = await run(options.seconds);
  const to = now();
  await stopProcess(proc);
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error('the profiled service wrote no .cpuprofile');
  return { load: measured, ...summariseProfile(join(dir, file), { from, to }) };
}

function markdown(record, summary) {
  const goals = summary.filter((s) => s.goal);
  const heap = record.heap;
  const heapMet = heap.big.perSession <= 256;
  const lines = [
    `# Benchmark results: ${record.date}`,
    '',
    `${record.quick ? 'A quick run (`npm run bench -- --quick`)' : 'A full run (`npm run bench`)'}: ` +
      `${record.options.rounds} round(s) × ${record.options.seconds} s per target, ${record.options.connections} connections, ` +
      `targets alternated over rounds, medians of rounds; ratios taken within each round. Production build, ` +
      `Node ${record.machine.node}, ${record.machine.cpus} × ${record.machine.cpuModel}, ` +
      `UV_THREADPOOL_SIZE=${record.machine.uvThreadpoolSize}.`,
    '',
    `**Noise:** this machine has ${record.machine.cpus} cores shared with other work (load average ` +
      `${record.machine.loadBefore.map((l) => l.toFixed(2)).join(' ')} before the run, ` +
      `${record.machine.loadAfter.map((l) => l.toFixed(2)).join(' ')} after), and the load generator ` +
      `(autocannon, in the bench process) runs on the same cores as the servers it measures. Read ratios ` +
      `from the same round, not absolute numbers, and expect several percent of run-to-run variation.`,
    '',
    markdownTable(summary),
    '',
    '![ratios](ratios.svg)',
    '',
    '## Targets',
    '',
    ...goals.map(
      (s) =>
        `- ${s.goal.met ? '**met**' : '**missed**'}: ${s.label} — ${s.goal.text}; measured ` +
        `${s.ratio === null ? '' : `${s.ratio.toFixed(2)}× req/s`}${s.p99Ratio === null ? '' : `, p99 ${s.p99Ratio.toFixed(2)}×`}` +
        `${s.failures ? `, ${s.failures} failed requests` : ''}.`,
    ),
    `- ${heapMet ? '**met**' : '**missed**'}: memory store heap per live session ≤ 256 B at ` +
      `${heap.big.sessions.toLocaleString('en-US')} sessions — measured ${Math.round(heap.big.perSession)} B ` +
      `(${Math.round(heap.small.perSession)} B at ${heap.small.sessions.toLocaleString('en-US')}).`,
    '',
    '## Method',
    '',
    '- Every target runs in its own process on its own free port; each service has its own fresh database ' +
      '(created for the run on the local PostgreSQL and dropped afterwards) and its own users and tokens, ' +
      `${USERS} per target, rotated over the requests.`,
    '- The baseline for `GET /users/me` is `bench/baselines/express-pg.mjs`: Express 5, bearer → SHA-256 → one ' +
      'prepared JOIN of sessions and users (with the credential-version check) through `pg`.',
    '- Login and register run on the memory-store service; their baselines are raw argon2id verify and hash ' +
      'with the same parameters and thread pool, the same number of operations in flight as connections.',
    '- Live sessions: the service started with that many sessions put into its memory store before it ' +
      'listens (`bench/lib/preloaded-service.mjs`); heap per session is the growth of `heapUsed` plus ' +
      '`arrayBuffers` (the typed arrays the store packs sessions into live outside the V8 heap), after full ' +
      'collections, over the fill, divided by the number of sessions, indexes included.',
    '- Two instances: two processes of the redis-store service sharing one database and Redis; the load is ' +
      'split over them (half the connections each, run at once): throughput is the sum, p99 the worse of the two. ' +
      'The ratio is to one instance (the redis-store row) in the same round.',
  ];
  if (record.profile) {
    const p = record.profile;
    const list = (entries) => entries.map((e) => `${e.name} ${e.percent}%`).join(', ');
    lines.push(
      '',
      '## CPU profile: memory store, GET /users/me',
      '',
      `\`node --cpu-prof\` on the memory-store service over ${p.seconds} s of load ` +
        `(${Math.round(p.load.requests).toLocaleString('en-US')} req/s while profiled).`,
      '',
      `- Self time by area: ${list(p.selfByArea)}.`,
      `- Inclusive time by area (any sample with it on the stack): ${list(p.inclusiveByArea)}.`,
      `- Hottest functions (self): ${list(p.selfByFunction)}.`,
    );
  }
  return lines.join('\n') + '\n';
}

/** A full run into bench/results puts its table into the README's Performance section. */
async function updateReadme(record, summary) {
  const [start, end] = ['<!-- bench:start -->', '<!-- bench:end -->'];
  const readme = readFileSync('README.md', 'utf8');
  const heap = record.heap.big;
  const table = [
    `Latest full run (${record.date.slice(0, 10)}, ${record.machine.cpus} shared cores; details in ` +
      '[bench/results/latest.md](bench/results/latest.md)):',
    '',
    markdownTable(summary),
    '',
    `Memory store: ${Math.round(heap.perSession)} B of heap per live session at ` +
      `${heap.sessions.toLocaleString('en-US')} sessions.`,
  ].join('\n');
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md has no ${start} … ${end} markers`);
  await writeFormatted(
    'README.md',
    `${readme.slice(0, from + start.length)}\n${table}\n${readme.slice(to)}`,
  );
}

/** `--only`: the named targets and the baselines their ratios need (everything is still started). */
function chosen(targets) {
  if (args.only === undefined) return targets;
  const wanted = new Set(args.only.split(','));
  for (const target of targets)
    if (wanted.has(target.key) && target.baseline) wanted.add(target.baseline);
  const unknown = [...wanted].filter((key) => !targets.some((target) => target.key === key));
  if (unknown.length) throw new Error(`--only: no target ${unknown.join(', ')}`);
  return targets.filter((target) => wanted.has(target.key));
}

async function main() {
  const started = Date.now();
  execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
  mkdirSync(outDir, { recursive: true });
  const loadBefore = loadavg();
  const servers = await setUp();
  const heap = { small: servers.small.heap, big: servers.big.heap };
  const targets = chosen(defineTargets(servers));
  log(`Set up in ${Math.round((Date.now() - started) / 1000)} s; warming up`);
  for (const target of targets.filter((t) => !t.key.startsWith('argon2')))
    await target.run(options.warmupSeconds);

  const rounds = [];
  for (let round = 0; round < options.rounds; round++) {
    const results = {};
    const shift = round % targets.length;
    // Each round starts one target later, so no target always runs right after the same one.
    for (const target of [...targets.slice(shift), ...targets.slice(0, shift)]) {
      results[target.key] = await target.run(options.seconds);
      const r = results[target.key];
      log(
        `round ${round + 1}/${options.rounds}  ${target.label.padEnd(42)} ${Math.round(r.requests).toString().padStart(7)} req/s  p99 ${r.p99.toFixed(1)} ms${r.non2xx + r.errors ? `  (${r.non2xx} non-2xx ${JSON.stringify(r.statuses)}, ${r.errors} errors)` : ''}`,
      );
    }
    rounds.push(results);
  }
  const profile = options.profile ? await profileMemoryStore() : null;
  const summary = summarise(targets, rounds);
  const record = {
    date: new Date().toISOString(),
    quick,
    options,
    machine: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
      loadBefore,
      loadAfter: loadavg(),
    },
    summary,
    heap,
    rounds,
    profile,
  };
  log('');
  log(terminalTable(summary));
  log(
    `heap per live session: ${Math.round(heap.small.perSession)} B at ${heap.small.sessions}, ${Math.round(heap.big.perSession)} B at ${heap.big.sessions}`,
  );
  const chartTitle = `Latchkey benchmark ${record.date.slice(0, 16)}Z${quick ? ' (quick)' : ''}`;
  const stamp = await writeResults(
    outDir,
    record,
    markdown(record, summary),
    ratioChart(summary, chartTitle),
  );
  if (!quick && args.out === undefined) await updateReadme(record, summary);
  log(
    `Wrote ${outDir}/${stamp}Z.json, ${outDir}/latest.md and ${outDir}/ratios.svg in ${Math.round((Date.now() - started) / 1000)} s`,
  );
}

let status = 0;
const stop = (signal) => {
  console.error(`${signal}: stopping the bench and cleaning up`);
  cleanUp().finally(() => process.exit(130));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
try {
  await main();
} catch (error) {
  console.error('bench failed:', error);
  status = 1;
} finally {
  const problems = await cleanUp();
  for (const problem of problems) console.error(`clean-up: ${problem}`);
  if (problems.length) status = 1;
}
process.exit(status);
