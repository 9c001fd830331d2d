import { request as httpRequest } from 'node:http';
import { recordExchange } from './ledger.js';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON (as Instance.request gives it), or the text when it is not JSON. */
  body: ReturnType<typeof JSON.parse>;
}

/**
 * One JSON request on a connection of its own (`Connection: close`), so that a client-side
 * connection pool can neither hide nor cause a failure; rejects on any connection error.
 */
export function send(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<Reply> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${baseUrl}${path}`, {
      method,
      agent: false,
      headers: {
        ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
        ...(payload
          ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }
          : {}),
      },
    });
    request.on('error', reject);
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('error', reject);
      response.on('end', () => {
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // Not JSON (an nginx error page, say): kept as text for the failure message.
        }
        recordExchange(options.body, response.statusCode as number, body);
        resolve({ status: response.statusCode as number, headers: response.headers, body });
      });
    });
    request.end(payload);
  });
}

/** What a background load saw: every answer by status, and every failure in words. */
export interface LoadReport {
  requests: number;
  statuses: Record<number, number>;
  /** Connection errors, 5xx and any other answer a flow did not expect, one line each. */
  failures: string[];
  /** Tokens that logins of the load received, in order. */
  tokens: string[];
}

export interface LoadOptions {
  /** Accounts to read as (GET /users/me) and log in as; each has a live token. */
  accounts: { email: string; password: string; token: string }[];
  readers?: number;
  loggers?: number;
  /** Called with each answer, e.g. to count which instance served it. */
  onReply?: (reply: Reply) => void;
}

/**
 * A steady stream of authenticated reads and logins, each flow looping until stop(). Reads expect
 * 200 (a 401 is a lost session), logins 200 with a token; anything else is a failure.
 */
export function startLoad(baseUrl: string, options: LoadOptions) {
  const report: LoadReport = { requests: 0, statuses: {}, failures: [], tokens: [] };
  let running = true;
  let turn = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const counted = () => {
    report.requests += 1;
    for (const waiter of waiters.filter((each) => each.count <= report.requests)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const next = () => options.accounts[turn++ % options.accounts.length];
  const record = (what: string, reply: Reply, expected: number) => {
    counted();
    report.statuses[reply.status] = (report.statuses[reply.status] ?? 0) + 1;
    options.onReply?.(reply);
    if (reply.status !== expected) {
      report.failures.push(`${what}: ${reply.status} ${JSON.stringify(reply.body)}`);
    }
  };
  const loop = async (step: () => Promise<void>) => {
    while (running) {
      await step().catch((error: Error) => {
        report.failures.push(`connection error: ${error.message}`);
        counted();
      });
    }
  };
  const read = async () => {
    const account = next();
    record('GET /users/me', await send(baseUrl, 'GET', '/users/me', account), 200);
  };
  const logIn = async () => {
    const { email, password } = next();
    const reply = await send(baseUrl, 'POST', '/auth/login', { body: { email, password } });
    record('POST /auth/login', reply, 200);
    if (reply.status === 200) report.tokens.push(reply.body.token);
  };
  const flows = [
    ...Array.from({ length: options.readers ?? 4 }, () => loop(read)),
    ...Array.from({ length: options.loggers ?? 2 }, () => loop(logIn)),
  ];
  return {
    report,
    /** Resolves once `count` more requests have been answered (or failed). */
    progressed(count: number): Promise<void> {
      return new Promise((resolve) => waiters.push({ count: report.requests + count, resolve }));
    },
    async stop(): Promise<LoadReport> {
      running = false;
      await Promise.all(flows);
      return report;
    },
  };
}
