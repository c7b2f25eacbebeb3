/**
 * Global setup of the Node and browser projects: the private copy of the Worker's sources, made once for every live
 * stack the run starts (scripts/dev/worker-copy.ts). The test processes are started after this and inherit the variable.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { BUILT_CONFIG_ENV, buildWorker } from '../../scripts/dev/worker-copy';

export default function setup() {
  if (process.env[BUILT_CONFIG_ENV]) return;
  const config = buildWorker();
  process.env[BUILT_CONFIG_ENV] = config;
  return () => {
    rmSync(dirname(config), { recursive: true, force: true });
    delete process.env[BUILT_CONFIG_ENV];
  };
}
