#!/usr/bin/env node
// The `baton` command. Registers tsx so that workflow files (and Baton's own sources) load as TypeScript.
import { register } from 'tsx/esm/api';

register();
// `baton logs RUN | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
