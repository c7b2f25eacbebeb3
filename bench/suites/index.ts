/**
 * The suite registry of `npm run bench -- --suite=<name>[,<name>]`. A suite is one module of bench/suites/ with one
 * entry here; bench/run.ts runs the selected ones in this order. To add one (e.g. `ingest`), write
 * bench/suites/ingest.ts exporting a `Suite` and add it below; the runner needs no other change.
 *
 * The hooks a suite can have are described in bench/lib/suite.ts.
 *
 * What `run`/`afterStack` return is merged into bench/results/latest.json (one key per figure) and printed.
 */
import { analytics } from './analytics';
import { apiKeys } from './api-keys';
import { endpointsSuite } from './endpoints';
import { events } from './events';
import { platform } from './platform';
import { transport } from './transport';
import type { Suite } from '../lib/suite';

export type { Suite, SuiteContext, SuiteOutput } from '../lib/suite';

/** Run order: the password hashes first (nothing else running), then the load, then what needs the stack stopped. */
export const suites: Record<string, Suite> = {
  platform,
  endpoints: endpointsSuite,
  transport,
  analytics,
  events,
  'api-keys': apiKeys,
};
