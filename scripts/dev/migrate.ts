import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';

export const projectRoot = join(dirname(new URL(import.meta.url).pathname), '..', '..');

/** Applies the migrations in drizzle/ with drizzle-kit, the same tool `npm run db:migrate` runs. */
export function migrate(databaseUrl: string) {
  const bin = join(projectRoot, 'node_modules', 'drizzle-kit', 'bin.cjs');
  const result = spawnSync(process.execPath, [bin, 'migrate'], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`drizzle-kit migrate failed:\n${result.stdout}\n${result.stderr}`);
}
