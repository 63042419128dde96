/** Benchmark workflows: a chain of n tasks, and 1 → map over n → 1. */
import { map, workflow, z } from '../src/sdk/index.ts';
import { collect, noop, source, step } from './tasks.ts';

export const chain = workflow(
  { name: 'bench-chain', params: z.object({ n: z.number().int().min(1), salt: z.string() }) },
  ({ n, salt }) => {
    let prev = step({ x: 0, salt });
    for (let i = 1; i < n; i++) prev = step({ x: prev, salt });
    return prev;
  },
);

export const fanout = workflow(
  { name: 'bench-fanout', params: z.object({ n: z.number().int().min(1), salt: z.string() }) },
  ({ n, salt }) => {
    const list = source({ n, salt });
    const items = map(noop, list, (x) => ({ x, salt }));
    return collect({ xs: items, salt });
  },
);
