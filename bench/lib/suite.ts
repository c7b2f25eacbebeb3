/**
 * What a benchmark suite is (bench/suites/index.ts lists them). Its hooks, all optional:
 *
 * - `beforeStack(ctx)`: work that overlaps the stack's start-up (e.g. a build whose size is only reported).
 * - `run(stack)`: against the shared stack (bench/lib/stack.ts: the seeded database, the API on both transports,
 *   the floor Worker); the stack starts only when a selected suite has `run`.
 * - `afterStack(ctx)`: once the stack has stopped, so nothing else competes for the CPU (e.g. timing `npm run dev`).
 * - `standalone(argv)`: a suite that brings its own database and options (analytics); it runs alone.
 */
import type { Phase } from './phases';
import type { Stack } from './stack';

export interface SuiteOutput {
  /** Keys merged into bench/results/latest.json. */
  results: Record<string, unknown>;
  /** The suite's part of the report on stdout. */
  print(): void;
}

export interface SuiteContext {
  root: string;
  quick: boolean;
  phase: Phase;
  note(problem: string): void;
}

export interface Suite {
  summary: string;
  /** Part of a plain `npm run bench` (no --suite). */
  byDefault: boolean;
  beforeStack?(ctx: SuiteContext): void;
  run?(stack: Stack, ctx: SuiteContext): Promise<SuiteOutput>;
  afterStack?(ctx: SuiteContext): Promise<SuiteOutput>;
  standalone?(argv: string[]): Promise<void>;
}
