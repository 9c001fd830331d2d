import { describe, expect, it, jest } from '@jest/globals';
import type { NextFunction, Request, Response } from 'express';
import { escapeUndecodablePath, limitBodyDepth, MAX_BODY_DEPTH } from './http.middleware.js';
import { ProblemException } from './problem.exception.js';

const run = (middleware: typeof limitBodyDepth, request: Partial<Request>) => {
  const next = jest.fn<(error?: unknown) => void>();
  middleware(request as Request, {} as Response, next as NextFunction);
  expect(next).toHaveBeenCalledTimes(1);
  return next.mock.calls[0][0];
};

describe('escapeUndecodablePath', () => {
  it.each([
    ['/users/%FF', '/users/%25FF'],
    ['/users/%E0%A4%A/x?q=%FF', '/users/%25E0%25A4%25A/x?q=%FF'],
    ['/users/%', '/users/%25'],
    ['/users/%C3%A9/%zz', '/users/%C3%A9/%25zz'],
  ])('makes %s decodable as %s, query left alone', (url, escaped) => {
    const request = { url };
    expect(run(escapeUndecodablePath, request)).toBeUndefined();
    expect(request.url).toBe(escaped);
    expect(() => request.url.split('?')[0].split('/').map(decodeURIComponent)).not.toThrow();
  });

  it('leaves a decodable path as it is', () => {
    const request = { url: '/users/%C3%A9%20x?a=%' };
    run(escapeUndecodablePath, request);
    expect(request.url).toBe('/users/%C3%A9%20x?a=%');
  });
});

describe('limitBodyDepth', () => {
  const nested = (depth: number): unknown => (depth === 1 ? { leaf: 1 } : { a: nested(depth - 1) });
  const arrays = (depth: number) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown;

  it(`lets ${MAX_BODY_DEPTH} levels through and refuses one more as malformed_json`, () => {
    expect(run(limitBodyDepth, { body: arrays(MAX_BODY_DEPTH) })).toBeUndefined();
    const refused = run(limitBodyDepth, { body: arrays(MAX_BODY_DEPTH + 1) });
    expect(refused).toBeInstanceOf(ProblemException);
    expect((refused as ProblemException).code).toBe('malformed_json');
    expect(run(limitBodyDepth, { body: nested(MAX_BODY_DEPTH) })).toBeUndefined();
    expect(run(limitBodyDepth, { body: nested(MAX_BODY_DEPTH + 1) })).toBeInstanceOf(
      ProblemException,
    );
  });

  it('walks a body deeper than the call stack without overflowing', () => {
    expect(run(limitBodyDepth, { body: arrays(100_000) })).toBeInstanceOf(ProblemException);
  });

  it.each([undefined, null, 'text', 42])('lets %p through', (body) => {
    expect(run(limitBodyDepth, { body })).toBeUndefined();
  });
});
