/**
 * Entry point of a process-executor worker (a child process started with child_process.fork and tsx loaded).
 * The configuration comes as the first argument; messages arrive over IPC. The worker exits when the engine closes
 * the IPC channel (the engine exited, or recycled this worker).
 */
import type { FromWorker, ToWorker, WorkerConfig } from '../threads/protocol.ts';
import { startRuntime } from '../threads/worker-runtime.ts';
import { endMarker } from './markers.ts';

if (!process.send) throw new Error('executors/processes/worker.ts must be started by ProcessExecutor (with an IPC channel).');
const ipcSend = process.send.bind(process);
const send = (message: FromWorker): void => {
  ipcSend(message);
};
const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;

const { handle, rawWrite } = startRuntime({
  ...config,
  send,
  // One attempt per process, so the process's resident set is the attempt's (plus the worker's own baseline).
  memory: () => process.memoryUsage.rss(),
  beforeDone: (id) => {
    const mark = endMarker(id);
    rawWrite('stdout', mark);
    rawWrite('stderr', mark);
  },
});
process.on('message', (message: ToWorker) => handle(message));
process.on('disconnect', () => process.exit(0));
send({ t: 'ready' });
