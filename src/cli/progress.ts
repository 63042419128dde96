/**
 * Live progress of a run in the terminal: counts per state, cache hits, elapsed time and what is running. On a TTY
 * it redraws in place (log-update); otherwise it prints one line per finished or failed task (a summary line
 * every few seconds for large runs), so CI logs stay readable.
 */
import { logUpdateStderr } from 'log-update';
import type { RunnerEvent } from '../engine/runner.ts';
import type { Phase } from '../engine/states.ts';
import { c, duration } from './format.ts';

export class Progress {
  private readonly phase = new Map<string, Phase>();
  private readonly counts = new Map<Phase, number>();
  private cached = 0;
  private readonly failures: string[] = [];
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private lastLine = 0;
  private readonly tty: boolean;
  private readonly quiet: boolean;

  constructor(
    private readonly runId: string,
    private readonly workflow: string,
    options: { tty?: boolean; quiet?: boolean; verb?: string } = {},
  ) {
    this.tty = options.tty ?? !!process.stderr.isTTY;
    this.quiet = !!options.quiet;
    if (options.quiet) return;
    if (this.tty) {
      this.timer = setInterval(() => this.render(), 100);
      this.timer.unref();
    } else {
      process.stderr.write(`run ${runId} (${workflow}) ${options.verb ?? 'started'}\n`);
    }
  }

  onEvent = (e: RunnerEvent): void => {
    if (e.type === 'warning') return this.warn(e.message ?? '');
    if (e.type !== 'transition' || !e.nodeId || !e.to) return;
    const prev = this.phase.get(e.nodeId);
    if (prev) this.counts.set(prev, (this.counts.get(prev) ?? 1) - 1);
    this.phase.set(e.nodeId, e.to);
    this.counts.set(e.to, (this.counts.get(e.to) ?? 0) + 1);
    if (e.cached) this.cached++;
    if (e.to === 'failed') this.failures.push(e.nodeId);
    if (!this.tty && !this.quiet) this.line(e);
  };

  private line(e: RunnerEvent): void {
    const total = this.phase.size;
    if (total > 200) {
      if (Date.now() - this.lastLine > 3000) {
        this.lastLine = Date.now();
        process.stderr.write(`${this.summary()}\n`);
      }
      return;
    }
    if (e.to === 'succeeded') process.stderr.write(`  ${e.cached ? c.cyan('cached') : c.green('done')}  ${e.nodeId}\n`);
    else if (e.to === 'failed' || e.to === 'retrying' || e.to === 'upstream_failed') process.stderr.write(`  ${c.red(e.to)}  ${e.nodeId}\n`);
  }

  private warnings = 0;

  /** Warnings (a cache hit that could not check its input paths) print even when quiet; the first 10 in full. */
  private warn(message: string): void {
    if (++this.warnings > 10) return;
    if (this.tty && !this.quiet) logUpdateStderr.clear();
    process.stderr.write(`${c.yellow('warning')}: ${message}${this.warnings === 10 ? ' (further warnings are not printed; see the run\'s path_warning events)' : ''}\n`);
  }

  private n(p: Phase): number {
    return this.counts.get(p) ?? 0;
  }

  summary(): string {
    const done = this.n('succeeded');
    const total = this.phase.size;
    const parts = [
      `${c.bold(this.workflow)} ${c.gray(this.runId)}`,
      `${done}/${total} done`,
      this.cached ? c.cyan(`${this.cached} cached`) : '',
      this.n('dispatched') ? c.blue(`${this.n('dispatched')} running`) : '',
      this.n('ready') ? `${this.n('ready')} queued` : '',
      this.n('retrying') ? c.yellow(`${this.n('retrying')} retrying`) : '',
      this.n('failed') ? c.red(`${this.n('failed')} failed`) : '',
      this.n('upstream_failed') ? c.red(`${this.n('upstream_failed')} upstream failed`) : '',
      this.n('skipped') ? c.gray(`${this.n('skipped')} skipped`) : '',
      c.gray(duration(Date.now() - this.started)),
    ];
    return parts.filter(Boolean).join('  ');
  }

  private render(): void {
    const running = [...this.phase].filter(([, p]) => p === 'dispatched').map(([id]) => id);
    const lines = [this.summary()];
    if (running.length) lines.push(c.gray(`  running: ${running.slice(0, 6).join(', ')}${running.length > 6 ? ` and ${running.length - 6} more` : ''}`));
    if (this.failures.length) lines.push(c.red(`  failed: ${this.failures.slice(-5).join(', ')}`));
    logUpdateStderr(lines.join('\n'));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.quiet) return;
    if (this.tty) {
      this.render();
      logUpdateStderr.done();
    } else {
      process.stderr.write(`${this.summary()}\n`);
    }
  }
}
