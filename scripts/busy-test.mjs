#!/usr/bin/env node
// Runs the tests on a machine made busy on purpose: two CPU-bound processes (`node -e 'for(;;){}'`) spin beside
// scripts/test.mjs (what `npm test` runs), which gets this script's arguments. The spinners are stopped at the end,
// however the tests end, and the exit code is the tests'. It shows that tests wait on events, not on the clock.
// Usage: npm run test:busy [-- FILE_OR_SUBSTRING...]   (BATON_BUSY_PROCESSES=N for another number of spinners)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const count = Number(process.env.BATON_BUSY_PROCESSES ?? '2');
if (!Number.isInteger(count) || count < 0) {
  console.error(`BATON_BUSY_PROCESSES must be a whole number, got "${process.env.BATON_BUSY_PROCESSES}".`);
  process.exit(2);
}

const spinners = Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
const stopSpinners = () => {
  for (const s of spinners) if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
};
process.on('exit', stopSpinners); // also when this script dies of an error
console.error(`busy-test: ${count} CPU-bound process(es) running beside the tests (pids ${spinners.map((s) => s.pid).join(', ') || 'none'})`);

const tests = spawn(process.execPath, [fileURLToPath(new URL('./test.mjs', import.meta.url)), ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
// Ctrl-C or a kill reaches the test run, which then stops its services; we stop the spinners when it exits.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => tests.kill(signal));
const code = await new Promise((resolve) => tests.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
stopSpinners();
process.exit(code);
