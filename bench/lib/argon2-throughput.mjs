// Raw argon2id throughput with the service's configured parameters (ARGON2_* as the service reads
// them): `hash` or `verify`, CONCURRENCY operations in flight for DURATION_MS. Run in its own
// process, so the libuv thread pool (UV_THREADPOOL_SIZE) is sized as the service's would be.
import argon2 from 'argon2';
import { validateEnv } from '../../dist/src/config/env.validation.js';

const [mode, durationMs, concurrency] = [
  process.argv[2],
  Number(process.argv[3]),
  Number(process.argv[4]),
];
const env = validateEnv(process.env);
const options = {
  type: argon2.argon2id,
  memoryCost: env.ARGON2_MEMORY_COST,
  timeCost: env.ARGON2_TIME_COST,
  parallelism: env.ARGON2_PARALLELISM,
};
const password = 'correct horse battery staple';
const stored = await argon2.hash(password, options);
const operation =
  mode === 'hash' ? () => argon2.hash(password, options) : () => argon2.verify(stored, password);

const latencies = [];
const deadline = Date.now() + durationMs;
const started = performance.now();
const worker = async () => {
  while (Date.now() < deadline) {
    const start = performance.now();
    await operation();
    latencies.push(performance.now() - start);
  }
};
await Promise.all(Array.from({ length: concurrency }, worker));
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
console.log(
  JSON.stringify({ requests: latencies.length / seconds, p50: at(0.5), p99: at(0.99), options }),
);
