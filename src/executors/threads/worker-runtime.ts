/**
 * The worker side of the thread and process executors: runs one attempt at a time in this thread or process.
 * It imports the task's modules (once per worker), looks the task up in the registry, calls the shared
 * `executeAttempt` with its own LocalArtifactStore on the engine's artifact folder, and reports the result.
 *
 * Output: process.stdout/stderr `write` is patched once. While an attempt runs, every write is sent to the engine
 * as a `log` message on the same channel as the result, so the engine sees an attempt's output before its `done`.
 * Writes made while no attempt runs (a timer left behind by an earlier task, say) go to the real stream.
 */
import type { AttemptRequest, AttemptResult } from '../../ports/executor.ts';
import { executeAttempt } from '../../runtime/execute.ts';
import { importUserModule } from '../../runtime/user-module.ts';
import { lookupTask } from '../../sdk/registry.ts';
import { LocalArtifactStore } from '../../stores/artifacts/local/store.ts';
import { lazyOfflineEngine } from '../../stores/offline/duckdb/lazy.ts';
import { runCommand } from '../command/run.ts';
import type { FromWorker, ToWorker, WorkerConfig } from './protocol.ts';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface RuntimeOptions extends WorkerConfig {
  send(message: FromWorker): void;
  /** Bytes the attempt's memory is measured by; sampled at start, end and every `sampleMs` in between. */
  memory: () => number;
  /** Called after the attempt's last log message and before its `done` is sent. */
  beforeDone?: (id: number) => void;
  /** @default 20 */
  sampleMs?: number;
}

export type RawWrite = (stream: 'stdout' | 'stderr', text: string) => void;

const MB = 1024 * 1024;

function toText(chunk: unknown, encoding: unknown): string {
  if (typeof chunk === 'string') {
    return typeof encoding === 'string' && encoding !== 'utf8' && encoding !== 'utf-8' ? Buffer.from(chunk, encoding as BufferEncoding).toString('utf8') : chunk;
  }
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
  return String(chunk);
}

class ImportFailure extends Error {
  constructor(module: string, cause: unknown) {
    super(`importing ${module} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** A module specifier from a path or URL (file paths become file: URLs so that import() accepts them). */
function specifier(module: string): string {
  // A scheme of two or more letters (file:, data:, node:); one letter would be a Windows drive.
  if (/^[a-z][a-z0-9+.-]+:/i.test(module)) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

/** Starts the runtime; returns the handler for messages from the engine and the unpatched write. */
export function startRuntime(options: RuntimeOptions): { handle: (message: ToWorker) => void; rawWrite: RawWrite } {
  const store = new LocalArtifactStore(options.artifactsRoot);
  // One offline engine per worker (thread or process), opened when a task first needs it; it lives as long as the worker.
  const offline = lazyOfflineEngine();
  const imported = new Map<string, Promise<unknown>>();
  let current: number | undefined;
  let controller: AbortController | undefined;

  const originals = {
    stdout: process.stdout.write.bind(process.stdout) as (chunk: string) => boolean,
    stderr: process.stderr.write.bind(process.stderr) as (chunk: string) => boolean,
  };
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = process[name];
    const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (current === undefined) return original(chunk, ...rest);
      options.send({ t: 'log', id: current, s: name, x: toText(chunk, rest[0]) });
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (cb) queueMicrotask(cb);
      return true;
    }) as typeof stream.write;
  }

  const importModules = async (modules: string[]) => {
    for (const m of modules) {
      let p = imported.get(m);
      if (!p) {
        p = importUserModule(specifier(m));
        imported.set(m, p);
        // A failed import is not cached, so that a fixed file can be retried by the next attempt.
        p.catch(() => imported.delete(m));
      }
      try {
        await p;
      } catch (err) {
        throw new ImportFailure(m, err);
      }
    }
  };

  const attempt = async (id: number, req: AttemptRequest, signal: AbortSignal): Promise<AttemptResult> => {
    try {
      await importModules(req.modules);
    } catch (err) {
      if (!(err instanceof ImportFailure)) throw err;
      const stack = err.cause instanceof Error ? err.cause.stack : undefined;
      return { ok: false, kind: 'crash', retryable: false, message: `Task "${req.task}" could not be loaded: ${err.message}`, ...(stack ? { stack } : {}) };
    }
    const def = lookupTask(req.task);
    if (!def) {
      const where = req.modules.length ? req.modules.join(', ') : '(no modules were given to import)';
      return {
        ok: false,
        kind: 'crash',
        retryable: false,
        message: `Task "${req.task}" is not defined in ${where}. Define it at the top level of one of these modules with task({ name: "${req.task}", ... }) so that importing the module registers it.`,
      };
    }
    const log = (s: 'stdout' | 'stderr', x: string) => options.send({ t: 'log', id, s, x });
    return executeAttempt(def, req, { artifacts: store, offline: offline.get, runCommand, signal, log, ...(options.inlineLimit ? { inlineLimit: options.inlineLimit } : {}) });
  };

  const run = async (id: number, req: AttemptRequest) => {
    current = id;
    const ctl = new AbortController();
    controller = ctl;
    // Declared environment variables: set for the attempt, restored afterwards.
    const savedEnv: [string, string | undefined][] = [];
    for (const [k, v] of Object.entries(req.env)) {
      savedEnv.push([k, process.env[k]]);
      process.env[k] = v;
    }
    let peak = options.memory();
    const sampler = setInterval(() => {
      peak = Math.max(peak, options.memory());
    }, options.sampleMs ?? 20);
    sampler.unref();
    const cpu0 = process.cpuUsage();
    let result: AttemptResult;
    try {
      result = await attempt(id, req, ctl.signal);
    } catch (err) {
      result = { ok: false, kind: 'crash', retryable: true, message: `Worker failed running "${req.nodeId}": ${err instanceof Error ? err.message : String(err)}` };
    }
    const cpu = process.cpuUsage(cpu0);
    clearInterval(sampler);
    peak = Math.max(peak, options.memory());
    for (const [k, v] of savedEnv.reverse()) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    current = undefined;
    controller = undefined;
    options.beforeDone?.(id);
    options.send({
      t: 'done',
      id,
      r: { ...result, cpuMs: result.cpuMs ?? (cpu.user + cpu.system) / 1000, peakRssMb: result.peakRssMb ?? Math.round((peak / MB) * 10) / 10 },
    });
  };

  const handle = (message: ToWorker) => {
    if (message.t === 'run') {
      void run(message.id, message.req);
    } else if (message.t === 'cancel' && message.id === current) {
      controller?.abort(message.reason);
    }
  };
  return { handle, rawWrite: (stream, text) => void originals[stream](text) };
}
