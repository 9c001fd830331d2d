// HTTP load through autocannon (programmatic), and the raw argon2 measurement in a child process.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import autocannon from 'autocannon';

/**
 * `connections` connections for `seconds` against `url`; each request built by `build(i)` (method,
 * path, headers, body). Throughput counts 2xx answers only, so errors never look like speed.
 */
export async function load({ url, connections, seconds, build }) {
  let sequence = 0;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    pipelining: 1,
    requests: [{ setupRequest: (request) => ({ ...request, ...build(sequence++) }) }],
  });
  return {
    requests: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    /** Counts of the answers other than 2xx, by status: what went wrong, when something did. */
    statuses: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {})
        .filter(([status]) => !status.startsWith('2'))
        .map(([status, { count }]) => [status, count]),
    ),
  };
}

/**
 * Closed-loop load for slow requests (login, register: argon2 on the thread pool): `connections`
 * clients each send the next request once the last one answered, until `seconds` are up, and the
 * measurement ends when the last answer is in. autocannon stops at the deadline with requests still
 * queued on the server's thread pool, which would go on hashing into the next target's time.
 */
export async function loadClosed({ url, connections, seconds, build }) {
  let sequence = 0;
  let ok = 0;
  let failed = 0;
  const statuses = {};
  const latencies = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const client = async () => {
    while (performance.now() < deadline) {
      const { method, path, headers, body } = build(sequence++);
      const start = performance.now();
      try {
        const response = await fetch(url + path, { method, headers, body });
        await response.arrayBuffer();
        if (response.ok) ok += 1;
        else {
          failed += 1;
          statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        }
      } catch {
        failed += 1;
      }
      latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    requests: ok / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    non2xx: Object.values(statuses).reduce((sum, count) => sum + count, 0),
    errors: failed - Object.values(statuses).reduce((sum, count) => sum + count, 0),
    statuses,
  };
}

/**
 * The same load split over several servers at once (connections shared out evenly): throughput
 * adds up, p50 is the request-weighted mean and p99 the worst of the parts.
 */
export async function loadSpread({ urls, connections, seconds, build }) {
  const parts = await Promise.all(
    urls.map((url) =>
      load({
        url,
        connections: Math.max(1, Math.round(connections / urls.length)),
        seconds,
        build,
      }),
    ),
  );
  const requests = parts.reduce((sum, part) => sum + part.requests, 0);
  return {
    requests,
    p50: parts.reduce((sum, part) => sum + part.p50 * part.requests, 0) / (requests || 1),
    p99: Math.max(...parts.map((part) => part.p99)),
    non2xx: parts.reduce((sum, part) => sum + part.non2xx, 0),
    errors: parts.reduce((sum, part) => sum + part.errors, 0),
    statuses: parts.reduce((sum, part) => {
      for (const [status, count] of Object.entries(part.statuses))
        sum[status] = (sum[status] ?? 0) + count;
      return sum;
    }, {}),
  };
}

const ARGON2 = fileURLToPath(new URL('./argon2-throughput.mjs', import.meta.url));

/** Raw argon2id `hash` or `verify` operations per second, `concurrency` in flight, as in the service's env. */
export async function argon2Throughput({ mode, seconds, concurrency, env }) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [ARGON2, mode, String(seconds * 1000), String(concurrency)],
    { env: { ...process.env, ...env } },
  );
  return { ...JSON.parse(stdout), non2xx: 0, errors: 0, statuses: {} };
}
