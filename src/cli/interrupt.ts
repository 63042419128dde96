/**
 * Ctrl-C for commands that drive a run: the first SIGINT/SIGTERM cancels the run (it can be resumed later), a
 * second one exits at once with the "cancelled" exit code.
 */
import { EXIT_CODES } from '../errors.ts';

export function interruptible(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSig = (): void => {
    if (controller.signal.aborted) process.exit(EXIT_CODES.cancelled);
    process.stderr.write('\nCancelling the run (Ctrl-C again to exit at once; `baton resume` continues it later)…\n');
    controller.abort();
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
    },
  };
}
