// Compile-time guarantees of the SDK, checked by `npm run typecheck` (each @ts-expect-error must be an error, or
// the typecheck fails) and executed as a test so the wiring below is also exercised at run time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { categorical, float, map, task, tune, when, workflow, z, type Ref } from '../src/sdk/index.ts';

const count = task({ name: 'types.count', input: z.object({ text: z.string() }), output: z.object({ n: z.number(), words: z.array(z.string()) }), run: ({ text }) => ({ n: text.length, words: text.split(' ') }) });
const shout = task({ name: 'types.shout', input: z.object({ word: z.string(), times: z.number().default(1) }), output: z.string(), run: ({ word, times }) => word.toUpperCase().repeat(times) });
const square = task({ name: 'types.square', input: z.object({ x: z.number() }), output: z.number(), run: ({ x }) => x * x });

test('typed wiring: outputs flow into inputs of the same type; mismatches are compile errors', () => {
  const wf = workflow({ name: 'types', params: z.object({ text: z.string().default('a b') }) }, ({ text }) => {
    const c = count({ text });
    const n: Ref<number> = c.n; // fields of an output are typed refs
    const sq = square({ x: n });
    // Type errors only: this function is type-checked but never called (the engine would reject these at run time).
    const wrong = () => {
      // @ts-expect-error a number output cannot feed a string input
      shout({ word: c.n });
      // @ts-expect-error a required input may not be left out
      square({});
      // @ts-expect-error unknown input fields are rejected
      square({ x: 1, y: 2 });
      // @ts-expect-error the map item is a string, not a number
      map(square, c.words, (word) => ({ x: word }));
    };
    void wrong;
    const loud = map(shout, c.words, (word) => ({ word })); // item is Ref<string>
    const pick = when(
      true,
      () => square({ x: 2 }),
      () => square.with({ id: 'other' })({ x: 3 }),
    );
    const out: Ref<number> = pick;
    return { sq, loud, out };
  });
  const { graph } = wf.build({});
  assert.deepEqual(graph.nodes.map((n) => `${n.id}:${n.kind}`), ['types.count:task', 'types.square:task', 'types.shout:map', 'types.square-2:task', 'other:task', 'when:select']);
});

const objective = task({
  name: 'types.objective',
  input: z.object({ params: z.object({ lr: z.number(), kind: z.enum(['a', 'b']) }), rows: z.number() }),
  output: z.object({ loss: z.number(), label: z.string() }),
  run: ({ params, rows }) => ({ loss: params.lr * rows, label: params.kind }),
});

test('tune: the space must fit the objective params, the metric must be a numeric output field', () => {
  const wf = workflow({ name: 'types-tune' }, () => {
    const study = tune(objective, { space: { lr: float(1e-3, 1, { log: true }), kind: categorical(['a', 'b'] as const) }, direction: 'minimize', metric: 'loss', trials: 4, inputs: { rows: 3 } });
    const lr: Ref<number> = study.best.params.lr; // params are typed by the space
    const label: Ref<string> = study.best.output.label; // the best trial's output by the task's output type
    const wrong = () => {
      // @ts-expect-error the space samples kind 'c', which the objective's params do not accept
      tune(objective, { space: { lr: float(0, 1), kind: categorical(['a', 'c'] as const) }, direction: 'minimize', metric: 'loss', trials: 4, inputs: { rows: 3 } });
      // @ts-expect-error "label" is not a numeric output field
      tune(objective, { space: { lr: float(0, 1), kind: categorical(['a'] as const) }, direction: 'minimize', metric: 'label', trials: 4, inputs: { rows: 3 } });
      // @ts-expect-error the objective's other inputs are typed
      tune(objective, { space: { lr: float(0, 1), kind: categorical(['a'] as const) }, direction: 'minimize', metric: 'loss', trials: 4, inputs: { rows: 'three' } });
    };
    void wrong;
    return { lr, label };
  });
  const { graph } = wf.build({});
  assert.deepEqual(graph.nodes.map((n) => `${n.id}:${n.kind}`), ['types.objective-study:tune']);
  assert.throws(
    () => workflow({ name: 'types-tune-bad' }, () => tune(objective, { space: { lr: float(0, 1), kind: categorical(['a'] as const) }, direction: 'minimize', metric: 'loss', trials: 0, inputs: { rows: 3 } })).build({}),
    /tune\("types.objective-study"\): trials must be a whole number ≥ 1, got 0/,
  );
});
