/**
 * A purge in bounded batches: `batch` deletes at most `size` rows and answers how many it took; batches run until one
 * comes back short, so a table grown faster than one batch per run cannot outpace the purge, and at most `maxBatches`
 * run, so one run's work stays bounded (the next run goes on). Answers the rows taken in all.
 */
export async function untilShort(size: number, maxBatches: number, batch: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let round = 0; round < maxBatches; round++) {
    const n = await batch();
    total += n;
    if (n < size) break;
  }
  return total;
}
