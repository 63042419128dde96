// Starts a throwaway Redis server for tests and benchmarks.
//
//   const redis = await startRedis();      // { url, port, stop() }
//   ... use redis.url (redis://127.0.0.1:PORT) ...
//   await redis.stop();
//
// redis-server is looked up on PATH (and in /usr/bin, /usr/sbin, /usr/local/bin). When it is missing and we run as
// root, `apt-get install -y redis-server` is run first. The server is a child process bound to 127.0.0.1 on a free
// port, with persistence off; stop() kills it, and it is killed synchronously if the process exits without stop().
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const INSTALL_HINT = 'Install it with `sudo apt-get install -y redis-server`.';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function findRedis() {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
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
    if (!quiet) process.stderr.write(`redis: redis-server not found, running apt-get install -y ${pkg} ...\n`);
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

/** Connects, sends PING, resolves true on +PONG, false on any error or after timeoutMs. */
function ping(port, timeoutMs = 500) {
  return new Promise((resolve) => {
    let reply = '';
    let settled = false;
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk;
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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

/** Starts redis-server on `port`; resolves once it answers PING, rejects if it exits or does not answer in time. */
async function launch(bin, port, timeoutMs) {
  const args = [
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--save', '',
    '--appendonly', 'no',
    '--maxmemory-policy', 'noeviction',
    '--daemonize', 'no',
  ];
  const child = spawn(bin, args, { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk) => {
    output = (output + chunk).slice(-20_000);
  };
  child.stdout.setEncoding('utf8').on('data', collect);
  child.stderr.setEncoding('utf8').on('data', collect);
  let exited;
  child.on('error', (err) => {
    exited ??= `could not run ${bin}: ${err.message}`;
  });
  child.on('exit', (code, signal) => {
    exited ??= `redis-server exited (${signal ?? `code ${code}`})`;
  });

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) return { error: `${exited}\n${tail(output)}` };
    if (await ping(port)) return { child };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      return { error: `redis-server did not answer PING on 127.0.0.1:${port} within ${timeoutMs} ms\n${tail(output)}` };
    }
    await sleep(25);
  }
}

/**
 * Starts a private Redis server.
 * @param {{ quiet?: boolean, timeoutMs?: number }} [options]
 * @returns {Promise<{ url: string, port: number, stop(): Promise<void> }>}
 */
export async function startRedis(options = {}) {
  const quiet = options.quiet === true;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const startedAt = Date.now();

  let bin = findRedis();
  if (!bin) {
    if (!isRoot()) throw new Error(`redis-server was not found on PATH or in /usr/bin. ${INSTALL_HINT}`);
    const failure = await aptInstall('redis-server', quiet);
    bin = findRedis();
    if (!bin) {
      throw new Error(`redis-server was not found and could not be installed${failure ? `: ${failure}` : '.'}\n${INSTALL_HINT}`);
    }
  }

  // The port can be taken between freePort() and redis binding it: retry a few times.
  let launched;
  let port;
  for (let attempt = 0; attempt < 3; attempt++) {
    port = await freePort();
    launched = await launch(bin, port, timeoutMs);
    if (!launched.error || !/address already in use/i.test(launched.error)) break;
  }
  if (launched.error) throw new Error(`Could not start redis-server: ${launched.error}`);

  const { child } = launched;
  // Do not keep the event loop alive just for the server: callers stop it, or the exit hook does.
  child.unref();
  child.stdout.unref?.();
  child.stderr.unref?.();

  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    live.delete(stopSync);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  live.add(stopSync);
  installHooks();

  if (!quiet) {
    const version = /v=(\S+)/.exec((await run(bin, ['--version'])).output)?.[1];
    const ms = Date.now() - startedAt;
    process.stderr.write(`redis${version ? ` ${version}` : ''} started on 127.0.0.1:${port} (${(ms / 1000).toFixed(1)}s)\n`);
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      live.delete(stopSync);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
