/**
 * `command(...)`: a task that runs any executable, e.g. `/usr/bin/python3 train.py`. The input is handed over as
 * JSON in the file named by $BATON_INPUT (file handles materialised as local paths under `$BATON_INPUT_FILES`);
 * the program writes its output as JSON to $BATON_OUTPUT, which is validated against the output schema. A
 * string in the output that names a file the program wrote, where the schema expects a file handle, is stored
 * in the artifact store and becomes a handle.
 */
import type { z } from 'zod';
import { captureCallSite } from '../codehash/callsite.ts';
import { makeTask, type Task, type TaskDefinition, type TaskOptions } from './task.ts';

export interface CommandSpec<I extends z.ZodType, O extends z.ZodType> extends TaskOptions {
  input: I;
  output: O;
  /** argv, or a function of the input returning argv. The first item is the executable. */
  command: readonly string[] | ((input: z.output<I>) => string[]);
  /** Working directory. @default the folder of the file that defines the task */
  cwd?: string;
}

export function command<I extends z.ZodType, O extends z.ZodType>(spec: CommandSpec<I, O>): Task<I, O> {
  const { input, output, command: argv, cwd, ...options } = spec;
  const location = captureCallSite(['/src/sdk/']);
  const definition: TaskDefinition = {
    kind: 'command',
    options: { executor: 'inline', ...options },
    inputSchema: input,
    outputSchema: output,
    location,
    fn: undefined,
    command: typeof argv === 'function' ? (argv as (i: unknown) => string[]) : () => [...argv],
    commandOptions: { ...(cwd ? { cwd } : {}) },
  };
  return makeTask<I, O>(definition);
}
