/**
 * The no-op tasks the benchmarks run. Defined at the top level of this module so worker threads and processes can
 * import it and find them by name. Every input carries a `salt` unique to the run, so no attempt is a cache hit.
 */
import { task, z } from '../src/sdk/index.ts';

/** One link of a chain: takes the previous link's output. */
export const step = task({
  name: 'bench.step',
  input: z.object({ x: z.number(), salt: z.string() }),
  output: z.number(),
  run: ({ x }) => x + 1,
});

/** Produces the list a fan-out maps over. */
export const source = task({
  name: 'bench.source',
  input: z.object({ n: z.number().int(), salt: z.string() }),
  output: z.array(z.number()),
  run: ({ n }) => Array.from({ length: n }, (_, i) => i),
});

/** One fan-out item. */
export const noop = task({
  name: 'bench.noop',
  input: z.object({ x: z.number(), salt: z.string() }),
  output: z.number(),
  run: ({ x }) => x,
});

/** Consumes the whole fanned-out list. */
export const collect = task({
  name: 'bench.collect',
  input: z.object({ xs: z.array(z.number()), salt: z.string() }),
  output: z.object({ count: z.number(), sum: z.number() }),
  run: ({ xs }) => ({ count: xs.length, sum: xs.reduce((a, b) => a + b, 0) }),
});
