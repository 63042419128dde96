/**
 * Entry point of a thread-executor worker. Started by the bootstrap in executor.ts, which registers tsx in this
 * thread first (so this file and the user's .ts task modules can be imported).
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerConfig } from './protocol.ts';
import { startRuntime } from './worker-runtime.ts';

if (!parentPort) throw new Error('executors/threads/worker.ts must run in a worker thread started by ThreadExecutor.');
const port = parentPort;
const config = workerData as WorkerConfig;

const { handle } = startRuntime({
  ...config,
  send: (message: FromWorker) => port.postMessage(message),
  // Memory of this thread only: its V8 heap plus memory held outside it (Buffers, typed arrays), from the
  // isolate's own statistics. RSS would be the whole process's, shared with the engine and other workers.
  memory: () => {
    const h = getHeapStatistics();
    return h.used_heap_size + h.external_memory;
  },
});
port.on('message', (message: ToWorker) => handle(message));
port.postMessage({ t: 'ready' } satisfies FromWorker);
