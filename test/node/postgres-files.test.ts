/**
 * scripts/dev/postgres.ts often runs as root in shared temp folders: planted links, folders and PID files must not
 * make it chown, chmod, reuse or signal anything that is not its own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOwnedDir, freePort, startPostgres, writeSecretFile } from '../../scripts/dev/postgres';

const root = userInfo().uid === 0;
const postgresUid = () => Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
const postgresGid = () => Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'pg-files-test-'));
  chmodSync(work, 0o755);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const start = (dataDir: string) => freePort().then((port) => startPostgres({ dataDir, port, password: randomBytes(8).toString('hex'), fast: true }));

function alive(child: ChildProcess): boolean {
  try {
    process.kill(child.pid!, 0);
    return child.exitCode === null && child.signalCode === null;
  } catch {
    return false;
  }
}

describe('planted folders', () => {
  it('a data folder that is a symbolic link is refused, and its target is left as it was', async () => {
    const victim = join(work, 'victim');
    mkdirSync(victim, { mode: 0o755 });
    const before = statSync(victim);
    const dataDir = join(work, 'linked-data');
    symlinkSync(victim, dataDir);
    await expect(start(dataDir)).rejects.toThrow(/symbolic link/);
    const after = statSync(victim);
    expect([after.uid, after.gid, after.mode]).toEqual([before.uid, before.gid, before.mode]);
  });

  it('a data folder whose parent others can write to is refused', async () => {
    const open = join(work, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    await expect(start(join(open, 'pgdata'))).rejects.toThrow(/writable by other users/);
  });

  it.runIf(root)('a data folder planted by another user is refused', async () => {
    const holder = join(work, 'holder');
    mkdirSync(holder, { mode: 0o755 });
    const planted = join(holder, 'pgdata');
    mkdirSync(planted, { mode: 0o700 });
    chownSync(planted, 65534, 65534); // nobody
    await expect(start(planted)).rejects.toThrow(/owned by uid 65534/);
  });

  it('checkOwnedDir refuses links, foreign owners and group/world-writable folders, accepts our own', () => {
    const mine = join(work, 'mine');
    mkdirSync(mine, { mode: 0o755 });
    expect(() => checkOwnedDir(mine, [userInfo().uid], 'test')).not.toThrow();
    const link = join(work, 'mine-link');
    symlinkSync(mine, link);
    expect(() => checkOwnedDir(link, [userInfo().uid], 'test')).toThrow(/symbolic link/);
    const loose = join(work, 'loose');
    mkdirSync(loose);
    chmodSync(loose, 0o775);
    expect(() => checkOwnedDir(loose, [userInfo().uid], 'test')).toThrow(/writable/);
    expect(() => checkOwnedDir(mine, [userInfo().uid + 1], 'test')).toThrow(/belongs to uid/);
  });
});

describe('the initdb password file', () => {
  it('is 0600 in a fresh 0700 folder of random name, owned by the server user, and removed afterwards', () => {
    const owner = root ? { uid: postgresUid(), gid: postgresGid() } : undefined;
    const a = writeSecretFile('secret\n', owner);
    const b = writeSecretFile('secret\n', owner);
    try {
      expect(a.path).not.toBe(b.path);
      const file = lstatSync(a.path);
      const dir = lstatSync(join(a.path, '..'));
      expect(file.mode & 0o777).toBe(0o600);
      expect(dir.mode & 0o777).toBe(0o700);
      expect(file.uid).toBe(owner?.uid ?? userInfo().uid);
      expect(dir.uid).toBe(owner?.uid ?? userInfo().uid);
    } finally {
      a.remove();
      b.remove();
    }
    expect(existsSync(a.path)).toBe(false);
  });
});

describe('a planted postmaster.pid', () => {
  let dataDir: string;
  let bystander: ChildProcess;
  beforeAll(async () => {
    dataDir = join(work, 'real-data');
    await (await start(dataDir)).stop();
  }, 60_000);
  afterAll(() => {
    if (bystander && alive(bystander)) bystander.kill('SIGKILL');
  });

  const plant = (pid: number, owner?: { uid: number; gid: number }) => {
    const file = join(dataDir, 'postmaster.pid');
    writeFileSync(file, `${pid}\n${dataDir}\n`);
    if (owner) chownSync(file, owner.uid, owner.gid);
  };

  it('naming a process that is not this folder’s server: nothing is signalled, the server starts', async () => {
    bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
    plant(bystander.pid!);
    const server = await start(dataDir);
    await server.stop();
    expect(alive(bystander)).toBe(true);
  }, 60_000);

  it.runIf(root)('even when written as the server’s user, a PID of another process is not signalled', async () => {
    plant(bystander.pid!, { uid: postgresUid(), gid: postgresGid() });
    const server = await start(dataDir);
    await server.stop();
    expect(alive(bystander)).toBe(true);
  }, 60_000);
});
