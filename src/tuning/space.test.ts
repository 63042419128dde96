// Search spaces: type inference (checked by `npx tsc --noEmit`, including the @ts-expect-error lines), validation
// errors that name the parameter and the fix, and flattening of conditional params.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { categorical, conditional, flattenParams, float, int, space, SpaceError, type ParamsOf } from './space.ts';

const s = space({
  lr: float(1e-4, 1e-1, { log: true }),
  layers: int(1, 4),
  opt: categorical(['adam', 'sgd']),
  model: conditional('kind', {
    rf: { depth: int(2, 12), trees: int(10, 500, { log: true }) },
    logreg: { c: float(1e-3, 10, { log: true }), penalty: categorical(['l1', 'l2', null]) },
  }),
});
type P = ParamsOf<typeof s>;

test('ParamsOf infers numbers, literal choices and a discriminated union per conditional', () => {
  const ok: P = { lr: 0.01, layers: 2, opt: 'adam', model: { kind: 'rf', depth: 3, trees: 100 } };
  const ok2: P = { lr: 0.01, layers: 2, opt: 'sgd', model: { kind: 'logreg', c: 1, penalty: null } };
  // @ts-expect-error 'rmsprop' is not a choice
  const badChoice: P = { lr: 0.01, layers: 2, opt: 'rmsprop', model: { kind: 'rf', depth: 3, trees: 100 } };
  // @ts-expect-error c belongs to the logreg branch, not rf
  const wrongBranch: P = { lr: 0.01, layers: 2, opt: 'adam', model: { kind: 'rf', depth: 3, trees: 100, c: 1 } };
  // @ts-expect-error lr is a number
  const badType: P = { lr: '0.01', layers: 2, opt: 'adam', model: { kind: 'rf', depth: 3, trees: 100 } };
  const narrow = (p: P): number => (p.model.kind === 'rf' ? p.model.depth : p.model.c); // narrowing works
  assert.equal(narrow(ok), 3);
  assert.equal(narrow(ok2), 1);
  void [badChoice, wrongBranch, badType];
});

test('leaves are flat paths, the branch choice before its leaves', () => {
  assert.deepEqual(
    s.leaves.map((l) => l.path),
    ['lr', 'layers', 'opt', 'model.kind', 'model.rf.depth', 'model.rf.trees', 'model.logreg.c', 'model.logreg.penalty'],
  );
});

test('flattenParams keeps only active leaves and drops values that do not fit', () => {
  const flat = flattenParams(s, { lr: 0.01, layers: 2, opt: 'sgd', model: { kind: 'logreg', c: 1, penalty: null } });
  assert.deepEqual([...flat], [['lr', 0.01], ['layers', 2], ['opt', 1], ['model.kind', 1], ['model.logreg.c', 1], ['model.logreg.penalty', 2]]);
  const bad = flattenParams(s, { lr: 5, layers: 2.5, opt: 'rmsprop', model: { kind: 'svm', c: 1 } });
  assert.equal(bad.size, 0);
});

const error = (fn: () => unknown): SpaceError => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SpaceError, String(err));
    return err;
  }
  assert.fail('expected a SpaceError');
};

test('validation errors name the parameter and the fix', () => {
  const cases: [() => unknown, string, RegExp][] = [
    [() => space({ lr: float(0, 1, { log: true }) }), 'lr', /lo > 0 on a log scale; use a small positive lower bound/],
    [() => space({ x: float(1, 0) }), 'x', /needs lo < hi; swap the bounds/],
    [() => space({ n: int(1.5, 4) }), 'n', /integer bounds; use int\(2, 4\)/],
    [() => space({ n: int(0, 10, { log: true }) }), 'n', /lo ≥ 1 on a log scale/],
    [() => space({ x: float(0, 1, { step: 0.3 }) }), 'x', /multiple of step 0.3; use hi = 0.9/],
    [() => space({ x: float(1, 2, { log: true, step: 0.5 }) }), 'x', /cannot combine log with step/],
    [() => space({ o: categorical([]) }), 'o', /non-empty array of choices/],
    [() => space({ o: categorical(['a', 'a']) }), 'o', /listed twice/],
    [() => space({ 'a.b': float(0, 1) }), 'a.b', /contain no "\." \(dots separate path parts\); rename it, e.g. "a_b"/],
    [() => space({ m: conditional('kind', { rf: { kind: int(1, 2) } }) }), 'm.rf.kind', /clashes with the branch key/],
    [() => space({ m: conditional('kind', { rf: { depth: int(5, 2) } }) }), 'm.rf.depth', /lo < hi/],
    [() => space({ m: conditional('kind', {}) }), 'm', /at least one branch/],
    [() => space({}), '(space)', /no parameters/],
  ];
  for (const [fn, param, message] of cases) {
    const err = error(fn);
    assert.equal(err.param, param);
    assert.match(err.message, new RegExp(`^Parameter "${param.replace(/[.()]/g, '\\$&')}": `));
    assert.match(err.message, message);
  }
});
