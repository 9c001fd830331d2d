import { randomUUID } from 'node:crypto';
import { type Server, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

interface ParserProblem {
  status: number;
  code: string;
  detail: string;
}

/** What Node's HTTP parser refuses, by its error code; anything else is a plain 400. */
const PROBLEMS: Record<string, ParserProblem> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'headers_too_large',
    detail: 'The request headers are larger than the server accepts.',
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    code: 'payload_too_large',
    detail: 'The chunk extensions of the request body are too large.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: 'request_timeout',
    detail: 'The request did not arrive in time.',
  },
};

const BAD_REQUEST: ParserProblem = {
  status: 400,
  code: 'bad_request',
  detail: 'The request is not valid HTTP/1.1 (request line, headers or body framing).',
};

/** What helmet sends on the app's responses, for those the app never sees. */
const SECURITY_HEADERS = [
  "Content-Security-Policy: default-src 'none';frame-ancestors 'none';base-uri 'none'",
  'Strict-Transport-Security: max-age=31536000; includeSubDomains',
  'X-Content-Type-Options: nosniff',
  'X-Frame-Options: DENY',
  'Referrer-Policy: no-referrer',
];

function problemResponse({ status, code, detail }: ParserProblem): string {
  const title = STATUS_CODES[status] ?? 'Error';
  const body = JSON.stringify({ type: 'about:blank', title, status, detail, code });
  return [
    `HTTP/1.1 ${status} ${title}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `X-Request-Id: ${randomUUID()}`,
    'Cache-Control: no-store',
    ...SECURITY_HEADERS,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Node answers some requests itself, with a bare status line and no X-Request-Id. Parser errors
 * never reach Express, so they are answered here as problem details, whenever the socket can still
 * take an answer: it is writable, and no response to an earlier request on it has begun (a second
 * answer in the middle of one would corrupt the stream; Node makes the same check). A missing Host
 * header and an unknown Expect go on to the app instead, which refuses them (refuseWhatNodeWould).
 */
export function answerNodeHttpErrorsAsProblems(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent: boolean } | null })
      ._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(problemResponse(PROBLEMS[error.code ?? ''] ?? BAD_REQUEST), () => socket.destroy());
  });
  // Set as an option of createServer, read per request; Nest creates the server without it.
  (server as Server & { requireHostHeader: boolean }).requireHostHeader = false;
  server.on('checkExpectation', (request, response) => server.emit('request', request, response));
}
