import { expect } from 'vitest';
import type { CallResult } from './harness';

/**
 * Database statements each route may run per request (counted by the Worker, reported in Server-Timing).
 * Every route answers in one statement: reads build the User/Role JSON (roles included) in SQL, and each change
 * writes its rows, revokes sessions and writes its audit row in CTEs of a single statement.
 */
export const budgets = {
  'GET /v1/users': 1,
  'POST /v1/users': 1,
  'GET /v1/users/:id': 1,
  'PATCH /v1/users/:id': 1,
  'DELETE /v1/users/:id': 1,
  'PUT /v1/users/:id/roles': 1,
  'PUT /v1/users/:id/roles/:role': 1,
  'DELETE /v1/users/:id/roles/:role': 1,
  'DELETE /v1/users/:id/sessions': 1,
  'GET /v1/roles': 1,
  'POST /v1/roles': 1,
  'GET /v1/roles/:role': 1,
  'PATCH /v1/roles/:role': 1,
  'DELETE /v1/roles/:role': 1,
  'GET /v1/roles/:role/users': 1,
} as const;

export type BudgetedRoute = keyof typeof budgets;

/** Fails when a request ran more statements than its route's budget (and when a route that must query ran none). */
export function expectWithinBudget(route: BudgetedRoute, res: CallResult) {
  expect(res.statements, `${route} ran ${res.statements} statements; budget ${budgets[route]}`).toBeLessThanOrEqual(budgets[route]);
  if (res.status < 300) expect(res.statements, `${route} answered ${res.status} without touching the database`).toBeGreaterThan(0);
}
