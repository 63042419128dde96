/**
 * Child process of engine.fanout100k: runs one fan-out on a fresh platform and sends back its timing and this
 * process's peak RSS (read right after the run, before verification reads every node back).
 * Usage (by bench/engine.ts): fork(fanout-child.ts, [N, EXECUTOR]) with an IPC channel.
 */
import type { ExecutorName } from '../src/sdk/index.ts';
import { runFanout, warmUp, type ChildReport } from './engine.ts';
import { withTempPlatform } from './support.ts';

const n = Number(process.argv[2] ?? 100_000);
const executor = (process.argv[3] ?? 'inline') as ExecutorName;
let report: ChildReport;
try {
  const mb = (bytes: number) => bytes / 1024 / 1024;
  const gc = (globalThis as { gc?: () => void }).gc;
  let peakRssMb = 0;
  let rssBeforeMb = 0;
  let liveHeapMb: number | undefined;
  const timed = await withTempPlatform({}, async (p) => {
    await warmUp(p, executor);
    rssBeforeMb = mb(process.memoryUsage().rss);
    return runFanout(p, n, executor, () => {
      peakRssMb = process.resourceUsage().maxRSS / 1024;
      if (gc) {
        gc();
        liveHeapMb = mb(process.memoryUsage().heapUsed);
      }
    });
  });
  report = { timed, peakRssMb, rssBeforeMb, ...(liveHeapMb !== undefined ? { liveHeapMb } : {}) };
} catch (err) {
  report = { error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
}
if (process.send) {
  await new Promise<void>((resolve) => process.send!(report, () => resolve()));
  process.disconnect?.();
} else {
  console.log(JSON.stringify(report));
}
