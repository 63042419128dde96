/**
 * Waiting on a state instead of a wall-clock sleep: `until(check, what)` re-checks every few milliseconds and returns
 * as soon as the check holds, so a test is as fast as the machine allows and still passes when the machine is busy.
 * The overall timeout is generous (a loaded 2-core machine) and only there to turn a hang into a clear failure.
 */

export const WAIT_TIMEOUT_MS = 60_000;

export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = WAIT_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`Gave up after ${timeoutMs} ms waiting until ${what}.`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
