import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The password derivations a request runs, each as `verify|hash <scheme>:<parameters>`, reported in Server-Timing
 * when SERVER_TIMING is on (src/middleware/db.ts). They make equal work visible: a sign-in for an unknown or invited
 * email must derive exactly what one for a real account does (test/sign-in-work.test.ts), which no timing can show reliably.
 */
const work = new AsyncLocalStorage<string[]>();

/** Runs `request` with `into` collecting the derivations it makes. */
export const collectDerivations = <T>(into: string[], request: () => Promise<T>): Promise<T> => work.run(into, request);

/** Called where a derivation really starts: nothing is recorded outside a collecting request. */
export function recordDerivation(kind: 'hash' | 'verify', params: string): void {
  work.getStore()?.push(`${kind} ${params}`);
}
