/**
 * Thread executor: runs attempts in a pool of long-lived worker threads (node:worker_threads), one attempt per
 * thread at a time. Cheap to start and to talk to (structured-clone postMessage), isolated from the engine's event
 * loop, but sharing its process: a task that calls process.exit ends only its thread, a native crash or an
 * out-of-memory abort takes the whole process down. Use the process executor for isolation.
 *
 * Measurements are per thread where Node allows it:
 * - cpuMs is the process.cpuUsage() delta around the attempt, which is PROCESS-wide: it includes the engine and other
 *   workers working at the same time (Node 20 has no per-thread CPU clock). Exact only when nothing else runs.
 * - peakRssMb is not an RSS (that too would be process-wide): it is the peak of this thread's V8 heap in use plus
 *   its external memory (Buffers, typed arrays), sampled every 20 ms and at the start and end of the attempt.
 *
 * Output: console.log and process.stdout/stderr writes in the task are captured and delivered before the result.
 * Native code writing straight to file descriptors 1/2 writes to the engine's own terminal (threads share them).
 *
 * TypeScript: Node 20 does not apply `--import` hooks (tsx) to worker threads, so a thread registers tsx itself:
 * before its entry point when Baton runs from source, or on its first TypeScript task module (runtime/user-module.ts).
 */
import { Worker } from 'node:worker_threads';
import type { Executor } from '../../ports/executor.ts';
import { WorkerPool, type WorkerEvents, type WorkerHandle } from './pool.ts';
import type { FromWorker, WorkerConfig } from './protocol.ts';
import { fromSource, siblingModule } from '../../runtime/user-module.ts';

export interface ThreadExecutorOptions {
  /** Folder of the LocalArtifactStore the engine uses; each worker opens its own store on it. */
  artifactsRoot: string;
  /** Maximum number of threads (and of attempts running at once). */
  workers: number;
  /** Encoded outputs above this many bytes are stored as artifacts. */
  inlineLimit?: number;
  /** Time a cancelled attempt gets to stop before its thread is terminated. @default 2000 */
  killGraceMs?: number;
}

let bootstrapCode: string | undefined;

/**
 * Code the Worker is started with. From dist/: import the compiled entry (the runtime registers tsx itself if a
 * task module is TypeScript). From source: register tsx in the thread (ESM and CommonJS hooks), then import the
 * TypeScript entry.
 */
function bootstrap(): string {
  if (bootstrapCode) return bootstrapCode;
  const entry = siblingModule(import.meta.url, 'worker').href;
  if (!fromSource) return (bootstrapCode = `import(${JSON.stringify(entry)});`);
  let esm: string, cjs: string;
  try {
    esm = import.meta.resolve('tsx/esm/api');
    cjs = import.meta.resolve('tsx/cjs/api');
  } catch (err) {
    throw new Error(`The threads executor needs the tsx package to run TypeScript in worker threads, and it could not be found: ${(err as Error).message}`, { cause: err });
  }
  bootstrapCode = [
    `Promise.all([import(${JSON.stringify(esm)}), import(${JSON.stringify(cjs)})])`,
    `.then(([esm, cjs]) => { esm.register(); cjs.register(); return import(${JSON.stringify(entry)}); });`,
  ].join('');
  return bootstrapCode;
}

export class ThreadExecutor extends WorkerPool implements Executor {
  readonly name = 'threads';
  private readonly config: WorkerConfig;

  constructor(options: ThreadExecutorOptions) {
    super({ workers: options.workers, ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}) });
    this.config = { artifactsRoot: options.artifactsRoot, ...(options.inlineLimit !== undefined ? { inlineLimit: options.inlineLimit } : {}) };
  }

  protected spawn(events: WorkerEvents): WorkerHandle {
    // execArgv is inherited from the engine (the default); the thread registers tsx itself (see above).
    const worker = new Worker(bootstrap(), { eval: true, workerData: this.config });
    const label = `worker thread ${worker.threadId}`;
    let error: Error | undefined;
    let resolveExited!: () => void;
    const exited = new Promise<void>((resolve) => (resolveExited = resolve));
    worker.on('message', (message: FromWorker) => events.message(message));
    worker.on('error', (err) => {
      error ??= err;
    });
    worker.on('exit', (code) => {
      events.exit(`${label} exited with code ${code}`, error ? String(error) : undefined);
      resolveExited();
    });
    return {
      label,
      send: (message) => worker.postMessage(message),
      kill: () => {
        worker.ref(); // the pool waits for the exit
        void worker.terminate();
      },
      ref: () => worker.ref(),
      unref: () => worker.unref(),
      exited,
    };
  }
}
