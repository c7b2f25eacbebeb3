import { expect } from 'vitest';
import type { CallResult } from './harness';

/** A problem+json answer with the given status (contract §0). */
export function expectProblem(res: CallResult, status: number) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
}

/** A 422 whose `errors` include one at `path`. */
export function expectInvalid(res: CallResult, path: string) {
  expectProblem(res, 422);
  expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
}
