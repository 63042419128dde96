/**
 * Inline executor: runs attempts in the engine's own thread. Fastest (no serialisation), no isolation: for tests,
 * tiny tasks and command tasks (whose work happens in a child process anyway). CPU time and memory are those of
 * the whole process during the attempt, so they are approximate when attempts overlap.
 */
import type { ArtifactStore } from '../../ports/artifacts.ts';
import type { OfflineEngine } from '../../ports/offline.ts';
import { runCommand } from '../command/run.ts';
import type { AttemptRequest, AttemptSink, Executor } from '../../ports/executor.ts';
import { executeAttempt } from '../../runtime/execute.ts';
import { lookupTask } from '../../sdk/registry.ts';
import { withCapture } from './capture.ts';

export class InlineExecutor implements Executor {
  readonly name = 'inline';
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly artifacts: ArtifactStore,
    /** The owner's offline engine (the platform's): inline attempts share it. */
    private readonly offline: () => Promise<OfflineEngine>,
    private readonly options: { inlineLimit?: number } = {},
  ) {}

  submit(req: AttemptRequest, sink: AttemptSink): void {
    const key = `${req.runId}/${req.nodeId}/${req.attempt}`;
    const controller = new AbortController();
    this.running.set(key, controller);
    const def = lookupTask(req.task);
    if (!def) {
      this.running.delete(key);
      sink.done({ ok: false, kind: 'crash', retryable: false, message: `Task "${req.task}" is not registered in this process. Import the module that defines it.` });
      return;
    }
    const cpu0 = process.cpuUsage();
    const stats = { cpuMs: 0 };
    void withCapture(sink.log, () =>
      executeAttempt(def, req, { artifacts: this.artifacts, offline: this.offline, runCommand, signal: controller.signal, log: sink.log, ...(this.options.inlineLimit ? { inlineLimit: this.options.inlineLimit } : {}) }),
    ).then(
      (result) => {
        this.running.delete(key);
        const cpu = process.cpuUsage(cpu0);
        stats.cpuMs = (cpu.user + cpu.system) / 1000;
        // Inline attempts share the engine's process: its RSS at the end is an upper bound, not the attempt's own.
        sink.done({ ...result, cpuMs: result.cpuMs ?? stats.cpuMs, peakRssMb: result.peakRssMb ?? process.memoryUsage.rss() / 1048576 });
      },
      (err: unknown) => {
        this.running.delete(key);
        sink.done({ ok: false, kind: 'crash', retryable: true, message: `Executor failed running "${req.nodeId}": ${String(err)}` });
      },
    );
  }

  cancel(runId: string, nodeId: string, attempt: number, reason: 'cancelled' | 'timeout'): void {
    this.running.get(`${runId}/${nodeId}/${attempt}`)?.abort(reason);
  }

  close(): Promise<void> {
    for (const c of this.running.values()) c.abort('cancelled');
    return Promise.resolve();
  }
}
