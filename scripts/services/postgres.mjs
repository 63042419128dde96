// Starts a throwaway PostgreSQL server for tests and benchmarks.
//
//   const pg = await startPostgres();      // { url, stop() }
//   ... use pg.url (postgres://postgres@127.0.0.1:PORT/postgres) ...
//   await pg.stop();
//
// The server binaries are looked up under /usr/lib/postgresql/<version>/bin (highest version wins). When they are
// missing and we run as root, `apt-get install -y postgresql` is run first. The cluster lives in a fresh temp dir,
// trusts every local connection, listens only on 127.0.0.1 on a free port, and is removed again by stop() (or,
// synchronously, when the process exits without calling stop()).
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PG_ROOT = '/usr/lib/postgresql';
const INSTALL_HINT =
  'Install it with `sudo apt-get install -y postgresql`, or set BATON_TEST_PG_URL to the URL of an existing server ' +
  '(for example postgres://postgres@127.0.0.1:5432/postgres).';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Highest installed server version under /usr/lib/postgresql, or undefined. */
function findPostgres() {
  let entries;
  try {
    entries = readdirSync(PG_ROOT);
  } catch {
    return undefined;
  }
  const versions = entries
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .filter((v) => ['initdb', 'pg_ctl', 'postgres'].every((b) => existsSync(join(PG_ROOT, v, 'bin', b))))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  const version = versions[0];
  if (version === undefined) return undefined;
  const bin = join(PG_ROOT, version, 'bin');
  return { version, initdb: join(bin, 'initdb'), pgCtl: join(bin, 'pg_ctl') };
}

/** Runs a command, resolves with { code, output } (stdout and stderr interleaved). Never rejects on exit code. */
function run(cmd, args, options = {}) {
  return new Promise((resolve) => {
    let output = '';
    let child;
    try {
      child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    } catch (err) {
      resolve({ code: -1, output: String(err?.message ?? err) });
      return;
    }
    const collect = (chunk) => {
      output += chunk;
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout.setEncoding('utf8').on('data', collect);
    child.stderr.setEncoding('utf8').on('data', collect);
    child.on('error', (err) => resolve({ code: -1, output: output + String(err.message) }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

const tail = (text, lines = 20) => text.trimEnd().split('\n').slice(-lines).join('\n');

let installing;
/** apt-get install, retried once after apt-get update. Shared across callers in this process. */
function aptInstall(pkg, quiet) {
  installing ??= (async () => {
    if (!quiet) process.stderr.write(`postgres: server binaries not found, running apt-get install -y ${pkg} ...\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', pkg];
    let res = await run('apt-get', install, { env });
    if (res.code !== 0) {
      const update = await run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update'], { env });
      if (update.code !== 0) return `apt-get update failed:\n${tail(update.output)}`;
      res = await run('apt-get', install, { env });
    }
    return res.code === 0 ? undefined : `apt-get install -y ${pkg} failed:\n${tail(res.output)}`;
  })();
  return installing;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// ---- cleanup of servers still running when the process ends -------------------------------------------------------

const live = new Set();
let hooksInstalled = false;

function stopAllSync() {
  for (const cleanup of [...live]) cleanup();
}

function onSignal(signal) {
  // Only act when nobody else handles the signal: then Node would have died without running 'exit' handlers.
  if (process.listenerCount(signal) > 1) return;
  stopAllSync();
  process.off(signal, onSignal);
  process.kill(process.pid, signal);
}

function installHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', stopAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, onSignal);
}

// ---- public API ---------------------------------------------------------------------------------------------------

/**
 * Starts a private PostgreSQL server.
 * @param {{ quiet?: boolean }} [options]
 * @returns {Promise<{ url: string, stop(): Promise<void> }>}
 */
export async function startPostgres(options = {}) {
  const quiet = options.quiet === true;
  const startedAt = Date.now();

  let pgBin = findPostgres();
  if (!pgBin) {
    if (!isRoot()) throw new Error(`PostgreSQL server binaries not found under ${PG_ROOT}/<version>/bin. ${INSTALL_HINT}`);
    const failure = await aptInstall('postgresql', quiet);
    pgBin = findPostgres();
    if (!pgBin) {
      throw new Error(
        `PostgreSQL server binaries not found under ${PG_ROOT}/<version>/bin and could not be installed` +
          `${failure ? `: ${failure}` : '.'}\n${INSTALL_HINT}`,
      );
    }
  }

  const root = isRoot();
  const dir = mkdtempSync(join(tmpdir(), 'baton-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  // initdb refuses to run as root: run the server tools as the postgres user, which must own the directory.
  const as = (bin, args) => (root ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args]);
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const fail = (message) => {
    removeDir();
    return new Error(message);
  };

  if (root) {
    try {
      chownSync(dir, ...postgresIds());
    } catch (err) {
      throw fail(`Cannot hand ${dir} to the postgres user: ${err.message}`);
    }
  }

  const initdb = await run(
    ...as(pgBin.initdb, [
      '-D', dataDir,
      '-U', 'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C.UTF-8',
      '--no-sync', // the cluster is thrown away; syncing it to disk at creation only costs time
      '--no-instructions',
    ]),
    { cwd: dir },
  );
  if (initdb.code !== 0) throw fail(`initdb failed (exit ${initdb.code}):\n${tail(initdb.output)}`);

  // The port can be taken by someone else between freePort() and the server binding it: retry a few times.
  let port;
  let lastError = '';
  for (let attempt = 0; attempt < 3 && port === undefined; attempt++) {
    const candidate = await freePort();
    const serverOptions = `-c listen_addresses=127.0.0.1 -p ${candidate} -c unix_socket_directories='${dir}'`;
    const started = await run(...as(pgBin.pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start', '-o', serverOptions]), {
      cwd: dir,
    });
    if (started.code === 0) {
      port = candidate;
    } else {
      let log = '';
      try {
        log = readFileSync(logFile, 'utf8');
      } catch {
        // no log written
      }
      lastError = `pg_ctl start failed (exit ${started.code}):\n${tail(started.output, 10)}\n--- ${logFile} ---\n${tail(log)}`;
      // Make sure a half-started server is not left behind before retrying.
      spawnSync(...as(pgBin.pgCtl, ['-D', dataDir, '-m', 'immediate', 'stop']), { cwd: dir, stdio: 'ignore' });
      if (!/already in use|could not bind/i.test(log)) break;
    }
  }
  if (port === undefined) throw fail(lastError);

  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    live.delete(stopSync);
    spawnSync(...as(pgBin.pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']), { cwd: dir, stdio: 'ignore' });
    removeDir();
  };
  live.add(stopSync);
  installHooks();

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  if (!quiet) {
    const ms = Date.now() - startedAt;
    process.stderr.write(`postgres ${pgBin.version} started on 127.0.0.1:${port} (${(ms / 1000).toFixed(1)}s)\n`);
  }

  return {
    url,
    async stop() {
      if (stopped) return;
      stopped = true;
      live.delete(stopSync);
      await run(...as(pgBin.pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']), { cwd: dir });
      removeDir();
    },
  };
}

/** [uid, gid] of the postgres system user. */
function postgresIds() {
  const res = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  const uid = Number.parseInt(res.stdout, 10);
  const group = Number.parseInt(gid.stdout, 10);
  if (res.status !== 0 || !Number.isInteger(uid) || !Number.isInteger(group)) {
    throw new Error('there is no postgres user (it is created by the postgresql package)');
  }
  return [uid, group];
}
