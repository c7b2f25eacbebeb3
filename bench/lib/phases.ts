/** Wall time per step of a run, reported at the end (where the minutes of a benchmark went). */
export type Phase = <T>(name: string, work: () => Promise<T>) => Promise<T>;

export function createPhases(): { phase: Phase; phases: Record<string, number> } {
  const phases: Record<string, number> = {};
  const phase: Phase = async (name, work) => {
    const t = performance.now();
    try {
      return await work();
    } finally {
      phases[name] = Math.round(performance.now() - t);
    }
  };
  return { phase, phases };
}
