#!/usr/bin/env node
// The `baton` command. Runs the compiled CLI (dist/); TypeScript support (tsx) is registered only when a user's
// workflow or definitions file is TypeScript (src/runtime/user-module.ts).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('error: Baton is not built (dist/cli/main.js is missing). Run `npm run build` in the Baton folder.\n');
  process.exit(1);
}
// `baton logs RUN | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
