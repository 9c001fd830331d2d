// `npm run soak`: a bounded soak of the production build. Starts `node dist/src/main.js` with
// NODE_ENV=production and the Docker image's heap limits on a fresh database, drives it with
// autocannon (mixed: 70% authenticated reads, 20% logins, 10% register/patch/logout), samples the
// process's RSS every second and its garbage collections (--trace-gc), and fails on any 5xx,
// non-2xx, connection error or timeout, or on RSS growth after warm-up beyond the bound.
// Writes summary.json, summary.md and rss.svg to the output folder.
//
//   npm run soak -- [--duration 60] [--connections 50] [--store postgres|redis] [--out soak/results/latest]
//                   [--node-options '<flags>']
//
// --node-options: the app's NODE_OPTIONS; by default the Dockerfile's (its heap limits), '' for
// V8's own sizing (from the machine's memory).
//
// The database server is SOAK_DATABASE_URL, TEST_DATABASE_URL or DATABASE_URL (its database name
// must contain "test"); a database of its own is created there and dropped afterwards.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { setTimeout as delay } from 'node:timers/promises';
import { URL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { RAISED_RATE_LIMITS } from './raised-rate-limits.mjs';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    connections: { type: 'string', default: '50' },
    store: { type: 'string', default: 'postgres' },
    out: { type: 'string', default: 'soak/results/latest' },
    'node-options': { type: 'string' },
  },
});
/** Production's heap limits, read from the image so that the soak runs the app the way it runs there. */
const imageNodeOptions = () => {
  const line = readFileSync('Dockerfile', 'utf8').match(/^ENV NODE_OPTIONS="([^"]*)"$/m);
  if (!line) throw new Error('the Dockerfile sets no NODE_OPTIONS="…"');
  return line[1];
};
const NODE_OPTIONS = args['node-options'] ?? imageNodeOptions();
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
/** The first third of the run is warm-up (JIT, pools, caches filling); the bound applies after it. */
const WARM_UP = DURATION / 3;
/** RSS bound: the peak of the last third may exceed the peak of the middle third by at most this. */
const RSS_GROWTH_BOUND = 0.1;
const PASSWORD = 'soak test passphrase';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

const serverUrl =
  process.env.SOAK_DATABASE_URL || process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
if (!serverUrl) {
  console.error('Set SOAK_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL server to soak on.');
  process.exit(2);
}
if (!decodeURIComponent(new URL(serverUrl).pathname).includes('test')) {
  console.error(
    'Refusing a database whose name lacks "test"; the soak creates one of its own there.',
  );
  process.exit(2);
}

const onServer = async (sql) => {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
};

const freePort = async () => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
};

/**
 * The app's --trace-gc lines: each collection's kind, time since the app started, heap used after
 * it and pause. A full (mark-compact) collection's "after" is the live heap.
 */
const garbageCollections = (stdout) =>
  [
    ...stdout.matchAll(
      /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: ([A-Za-z -]+?)(?: \([a-z ]+\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \//gm,
    ),
  ].map(([, ms, kind, after, pause]) => ({
    atMs: Number(ms),
    full: kind.includes('Mark-Compact'),
    afterMiB: Number(after),
    pauseMs: Number(pause),
  }));

const rssBytes = (pid) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return line ? Number(line[1]) * 1024 : undefined;
};

async function json(base, method, path, { token, body } = {}) {
  const response = await globalThis.fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok)
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? undefined : response.json();
}

/** The mix, one cycle of ten requests per connection: the context starts afresh each cycle. */
function requests(accounts, runId) {
  let nextAccount = 0;
  let nextChange = 0;
  let nextEmail = 0;
  const counts = {};
  const count = (kind) => (status) => {
    counts[kind] ??= {};
    counts[kind][status] = (counts[kind][status] ?? 0) + 1;
  };
  const logIn = (pick) => ({
    method: 'POST',
    path: '/auth/login',
    headers: { 'Content-Type': 'application/json' },
    setupRequest: (request, context) => {
      if (pick) context.account = accounts[nextAccount++ % accounts.length];
      return {
        ...request,
        body: JSON.stringify({ email: context.account.email, password: PASSWORD }),
      };
    },
    onResponse: (status, body, context) => {
      count('login')(status);
      if (status === 200) {
        const parsed = JSON.parse(body);
        context.token = parsed.token;
        context.userId = parsed.user.id;
      }
    },
  });
  const read = {
    method: 'GET',
    path: '/users/me',
    setupRequest: (request, context) => ({
      ...request,
      headers: { Authorization: `Bearer ${context.token}` },
    }),
    onResponse: (status) => count('read')(status),
  };
  const change = {
    setupRequest: (request, context) => {
      const kind = ['register', 'patch', 'logout'][nextChange++ % 3];
      context.kind = kind;
      const auth = { Authorization: `Bearer ${context.token}`, 'Content-Type': 'application/json' };
      if (kind === 'register') {
        const email = `soak-${runId}-${nextEmail++}@example.com`;
        return {
          ...request,
          method: 'POST',
          path: '/auth/register',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ email, password: PASSWORD }),
        };
      }
      if (kind === 'patch') {
        return {
          ...request,
          method: 'PATCH',
          path: `/users/${context.userId}`,
          headers: auth,
          body: JSON.stringify({ name: `Soak ${nextEmail}` }),
        };
      }
      return { ...request, method: 'POST', path: '/auth/logout', headers: auth, body: undefined };
    },
    onResponse: (status, _body, context) => count(context.kind)(status),
  };
  return { counts, list: [logIn(true), ...Array(7).fill(read), logIn(false), change] };
}

function chart(samples, { warmUp, bound, liveHeap }) {
  const width = 720;
  const height = 360;
  const pad = { left: 64, right: 24, top: 40, bottom: 48 };
  const mib = samples.map((sample) => sample.rss / 2 ** 20);
  const maxT = Math.max(...samples.map((sample) => sample.t), 1);
  const top = Math.ceil((Math.max(...mib, bound ?? 0) * 1.15) / 20) * 20;
  const x = (t) => pad.left + (t / maxT) * (width - pad.left - pad.right);
  const y = (v) => height - pad.bottom - (v / top) * (height - pad.top - pad.bottom);
  const points = samples.map((sample, i) => `${x(sample.t).toFixed(1)},${y(mib[i]).toFixed(1)}`);
  const heapPoints = liveHeap
    .filter((gc) => gc.t >= 0 && gc.t <= maxT)
    .map((gc) => `${x(gc.t).toFixed(1)},${y(gc.afterMiB).toFixed(1)}`);
  const yTicks = Array.from({ length: 5 }, (_, i) => (top / 4) * i);
  const xTicks = Array.from({ length: 7 }, (_, i) => Math.round((maxT / 6) * i));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
  <rect width="100%" height="100%" fill="white"/>
  <text x="${width / 2}" y="22" text-anchor="middle" font-size="14">Latchkey soak: RSS and live heap of the app process over time</text>
  <rect x="${pad.left}" y="${pad.top}" width="${x(warmUp) - pad.left}" height="${height - pad.top - pad.bottom}" fill="#eee"/>
  <text x="${pad.left + 6}" y="${pad.top + 16}" fill="#666">warm-up</text>
  ${yTicks.map((v) => `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${pad.left - 8}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(0)}</text>`).join('\n  ')}
  ${xTicks.map((t) => `<text x="${x(t)}" y="${height - pad.bottom + 18}" text-anchor="middle">${t}</text>`).join('\n  ')}
  ${bound ? `<line x1="${x(warmUp)}" x2="${width - pad.right}" y1="${y(bound)}" y2="${y(bound)}" stroke="#c33" stroke-dasharray="6 4"/><text x="${width - pad.right}" y="${y(bound) - 6}" text-anchor="end" fill="#c33">bound: ${bound.toFixed(0)} MiB</text>` : ''}
  <polyline points="${points.join(' ')}" fill="none" stroke="#2563eb" stroke-width="2"/>
  <text x="${width - pad.right}" y="${y(mib.at(-1)) + 16}" text-anchor="end" fill="#2563eb">RSS</text>
  ${heapPoints.length ? `<polyline points="${heapPoints.join(' ')}" fill="none" stroke="#16a34a" stroke-width="2" stroke-dasharray="2 3"/><text x="${width - pad.right}" y="${y(liveHeap.at(-1).afterMiB) - 6}" text-anchor="end" fill="#16a34a">live heap (after each full GC)</text>` : ''}
  <text x="${width / 2}" y="${height - 10}" text-anchor="middle">seconds</text>
  <text x="16" y="${height / 2}" text-anchor="middle" transform="rotate(-90 16 ${height / 2})">RSS (MiB)</text>
</svg>
`;
}

async function main() {
  const runId = randomBytes(4).toString('hex');
  const database = `latchkey_soak_${runId}`;
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  await onServer(`CREATE DATABASE ${database}`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let output = '';
  const app = spawn(process.execPath, ['--trace-gc', 'dist/src/main.js'], {
    env: {
      ...process.env,
      NODE_OPTIONS,
      NODE_ENV: 'production',
      PORT: String(port),
      DATABASE_URL: url.toString(),
      SESSION_STORE: args.store,
      REDIS_URL,
      REDIS_KEY_PREFIX: `latchkey-soak-${runId}:`,
      // No mail is sent (the worker is off); production only needs a server to be named.
      SMTP_URL: 'smtp://127.0.0.1:9',
      MAIL_WORKER: 'off',
      ...RAISED_RATE_LIMITS,
      LOG_LEVEL: 'warn',
      SHUTDOWN_DELAY: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const spawnedAt = Date.now();
  // --trace-gc writes to stdout: kept apart too, so that no stderr chunk lands inside its lines.
  let stdout = '';
  app.stdout.on('data', (chunk) => {
    output += chunk;
    stdout += chunk;
  });
  app.stderr.on('data', (chunk) => (output += chunk));
  const exited = once(app, 'exit');
  let failed = [];
  try {
    for (let ready = false; !ready; await delay(200)) {
      if (app.exitCode !== null) throw new Error(`the app exited at start-up:\n${output}`);
      ready = await globalThis.fetch(`${base}/health/ready`).then(
        (response) => response.ok,
        () => false,
      );
    }
    const accounts = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const email = `soak-${runId}-account-${i}@example.com`;
      await json(base, 'POST', '/auth/register', { body: { email, password: PASSWORD } });
      accounts.push({ email });
    }

    const samples = [];
    const started = Date.now();
    const sampler = setInterval(() => {
      const rss = rssBytes(app.pid);
      if (rss) samples.push({ t: (Date.now() - started) / 1000, rss });
    }, 1000);
    samples.push({ t: 0, rss: rssBytes(app.pid) });
    const mix = requests(accounts, runId);
    const result = await autocannon({
      url: base,
      connections: CONNECTIONS,
      duration: DURATION,
      requests: mix.list,
      timeout: 10,
    });
    clearInterval(sampler);
    const gcs = garbageCollections(stdout).map((gc) => ({
      ...gc,
      t: (gc.atMs - (started - spawnedAt)) / 1000,
    }));
    const duringRun = gcs.filter((gc) => gc.t >= 0 && gc.t <= DURATION);
    const liveHeap = duringRun.filter((gc) => gc.full);
    const liveAfterWarmUp = liveHeap.filter((gc) => gc.t >= WARM_UP).map((gc) => gc.afterMiB);

    const statuses = Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count]),
    );
    const fiveXx = Object.entries(statuses)
      .filter(([code]) => Number(code) >= 500)
      .reduce((sum, [, n]) => sum + n, 0);
    const after = (from, to) =>
      samples.filter((s) => s.t >= from && s.t < to).map((s) => s.rss / 2 ** 20);
    const middlePeak = Math.max(...after(WARM_UP, 2 * WARM_UP));
    const latePeak = Math.max(...after(2 * WARM_UP, Infinity));
    const bound = middlePeak * (1 + RSS_GROWTH_BOUND);
    const summary = {
      when: new Date().toISOString(),
      node: process.version,
      store: args.store,
      nodeOptions: NODE_OPTIONS,
      durationSeconds: DURATION,
      connections: CONNECTIONS,
      requests: result.requests.total,
      requestsPerSecond: result.requests.average,
      latencyMs: {
        p50: result.latency.p50,
        p90: result.latency.p90,
        p99: result.latency.p99,
        max: result.latency.max,
      },
      statuses,
      byKind: mix.counts,
      fiveXx,
      non2xx: result.non2xx,
      connectionErrors: result.errors,
      timeouts: result.timeouts,
      rssMiB: {
        start: samples[0].rss / 2 ** 20,
        middlePeak,
        latePeak,
        bound,
        end: samples.at(-1).rss / 2 ** 20,
      },
      gc: {
        scavenges: duringRun.filter((gc) => !gc.full).length,
        fullCollections: liveHeap.length,
        pauseSharePercent:
          (duringRun.reduce((sum, gc) => sum + gc.pauseMs, 0) / (DURATION * 1000)) * 100,
        liveHeapAfterWarmUpMiB: liveAfterWarmUp.length
          ? { min: Math.min(...liveAfterWarmUp), max: Math.max(...liveAfterWarmUp) }
          : null,
      },
      rssBound: `peak RSS of the last third ≤ peak of the middle third × ${1 + RSS_GROWTH_BOUND} (warm-up: the first ${WARM_UP.toFixed(0)} s)`,
      samples: samples.map((s) => ({
        t: Number(s.t.toFixed(1)),
        rssMiB: Number((s.rss / 2 ** 20).toFixed(1)),
      })),
      liveHeap: liveHeap.map((gc) => ({ t: Number(gc.t.toFixed(1)), afterMiB: gc.afterMiB })),
    };
    if (fiveXx > 0) failed.push(`${fiveXx} responses were 5xx`);
    if (result.non2xx > 0) failed.push(`${result.non2xx} responses were not 2xx`);
    if (result.errors > 0) failed.push(`${result.errors} connection errors`);
    if (result.timeouts > 0) failed.push(`${result.timeouts} timeouts`);
    if (!(latePeak <= bound))
      failed.push(`RSS grew after warm-up: ${latePeak.toFixed(1)} MiB > ${bound.toFixed(1)} MiB`);

    mkdirSync(args.out, { recursive: true });
    writeFileSync(join(args.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    writeFileSync(join(args.out, 'rss.svg'), chart(samples, { warmUp: WARM_UP, bound, liveHeap }));
    const f = (n) => n.toFixed(1);
    const live = summary.gc.liveHeapAfterWarmUpMiB;
    const table = `# Soak: ${DURATION} s, ${CONNECTIONS} connections, SESSION_STORE=${args.store}

${summary.when}, Node ${process.version}, app started with NODE_OPTIONS=${NODE_OPTIONS || '(none: V8 sizes the heap)'}. ${failed.length ? `**FAILED**: ${failed.join('; ')}` : 'Passed.'}

| figure | value |
|---|---|
| requests | ${summary.requests} (${f(summary.requestsPerSecond)}/s) |
| by kind (status: count) | ${Object.entries(mix.counts)
      .map(
        ([kind, byStatus]) =>
          `${kind} ${Object.entries(byStatus)
            .map(([s, n]) => `${s}: ${n}`)
            .join(', ')}`,
      )
      .join('; ')} |
| latency p50 / p90 / p99 / max | ${summary.latencyMs.p50} / ${summary.latencyMs.p90} / ${summary.latencyMs.p99} / ${summary.latencyMs.max} ms |
| 5xx / non-2xx / connection errors / timeouts | ${fiveXx} / ${result.non2xx} / ${result.errors} / ${result.timeouts} |
| RSS start / peak after warm-up (middle third) / peak of last third / end | ${f(summary.rssMiB.start)} / ${f(middlePeak)} / ${f(latePeak)} / ${f(summary.rssMiB.end)} MiB |
| RSS bound | ${summary.rssBound}: ${f(bound)} MiB |
| garbage collections: scavenges / full / pause share of the run | ${summary.gc.scavenges} / ${summary.gc.fullCollections} / ${summary.gc.pauseSharePercent.toFixed(2)}% |
| live heap after full GCs after warm-up (min–max) | ${live ? `${f(live.min)}–${f(live.max)} MiB` : 'no full GC after warm-up'} |

![RSS over time](rss.svg)
`;
    writeFileSync(join(args.out, 'summary.md'), table);
    console.log(table);
  } catch (error) {
    failed.push(error.message);
  } finally {
    app.kill('SIGTERM');
    const [code] = await exited;
    if (code !== 0) failed.push(`the app exited with ${code} on SIGTERM:\n${output}`);
    await onServer(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
  if (failed.length) {
    console.error(`soak FAILED: ${failed.join('; ')}`);
    process.exit(1);
  }
  console.log(`soak passed; results in ${args.out}`);
}

await main();
