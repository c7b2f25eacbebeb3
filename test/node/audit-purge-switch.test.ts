/** Only the retention purge may lift the audit trail's append-only guard: no Worker source sets the switch. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../scripts/dev/migrate';

describe('the audit purge switch (drizzle/0005_self_protection.sql)', () => {
  it('no Worker statement sets the purge switch (only purge_audit_events does)', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(`${dir}/${e.name}`);
        else if (/\.tsx?$/.test(e.name)) files.push(`${dir}/${e.name}`);
      }
    };
    walk(join(projectRoot, 'src'));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) expect(readFileSync(f, 'utf8'), f).not.toMatch(/audit_purge/);
  });
});
