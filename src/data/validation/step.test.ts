// validationTask as a workflow step, on generated bad data (inline executor, temp platform).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dataset, task, workflow, z } from '../../sdk/index.ts';
import { decodeShallow } from '../../values/codec.ts';
import { tempPlatform } from '../../../test/support/platform.ts';
import { validationTask, type ValidationSummary } from './step.ts';
import { inSet, matches, range, rowCount, sql } from './suite.ts';

/** Flights-like CSV; `bad` adds out-of-range delays, bad codes and a null. */
function flightsCsv(rows: number, bad: boolean): string {
  const lines = ['id,delay,origin,destination'];
  for (let i = 0; i < rows; i++) {
    let delay = String((i % 60) - 10);
    let origin = ['SEA', 'SFO', 'JFK'][i % 3]!;
    if (bad && i % 50 === 7) delay = '5000';
    if (bad && i === 11) origin = 'xx1';
    if (bad && i === 12) delay = '';
    if (i === 20) delay = '-150'; // always: a warn-level oddity
    lines.push(`${i},${delay},${origin},${i % 2 ? 'LAX' : 'ORD'}`);
  }
  return `${lines.join('\n')}\n`;
}

const makeData = task({
  name: 'vstep.make',
  input: z.object({ rows: z.number().int(), bad: z.boolean() }),
  output: z.object({ events: dataset() }),
  run: async ({ rows, bad }, ctx) => ({ events: await ctx.datasets.write('vstep_events', Buffer.from(flightsCsv(rows, bad)), { format: 'csv' }) }),
});

const SUITE = {
  name: 'vstep',
  schema: { id: 'integer' as const, delay: 'integer' as const, origin: 'string' as const },
  expectations: [
    range('delay', { min: -1000, max: 2000 }),
    range('delay', { min: -100, name: 'delay >= -100', severity: 'warn' }),
    matches('origin', '^[A-Z]{3}$'),
    inSet('destination', ['LAX', 'ORD']),
    sql('origin is not destination', 'SELECT * FROM source WHERE origin = destination'),
    rowCount({ min: 10 }),
  ],
};

export const check = validationTask({ name: 'vstep.validate', suite: SUITE });

const consume = task({
  name: 'vstep.consume',
  input: z.object({ checked: z.object({ rows: z.number(), warnings: z.number() }).loose() }),
  output: z.number(),
  run: ({ checked }) => checked.rows,
});

const flow = workflow({ name: 'vstep-flow', params: z.object({ rows: z.number().int(), bad: z.boolean() }) }, ({ rows, bad }) => {
  // A retry policy at the call site does not retry a validation failure: the same data fails the same way.
  const checked = check.with({ retries: 3 })({ data: makeData({ rows, bad }).events });
  return { checked, used: consume({ checked }) };
});

test('validationTask: warnings are logged and the run goes on; fail-severity violations fail the step with the report', async () => {
  const { platform, dispose } = await tempPlatform();
  try {
    // Clean apart from one warn-level delay.
    const ok = await platform.run(flow, { rows: 200, bad: false });
    assert.equal(ok.status, 'succeeded', ok.error);
    const out = (await decodeShallow(ok.output!, platform.artifacts)) as { checked: ValidationSummary; used: number };
    assert.equal(out.used, 200);
    assert.equal(out.checked.passed, true);
    assert.equal(out.checked.warnings, 1);
    assert.equal(out.checked.data.name, 'vstep_events.csv');
    assert.deepEqual(out.checked.results.filter((r) => !r.passed).map((r) => [r.name, r.severity, r.violations]), [['delay >= -100', 'warn', 1]]);
    const logs = (await platform.store.getLogs(ok.runId, { nodeId: 'vstep.validate' })).map((l) => l.text).join('');
    assert.match(logs, /Validation "vstep" of dataset "vstep_events" \(vstep_events\.csv\): PASSED — 0 failed, 1 warning/);
    assert.match(logs, /! WARN delay >= -100: expected delay ≥ -100; 1 of 200 rows violate \(0\.50%\)\n\s+e\.g\. \{"id":20,"delay":-150/);
    // The dataset read is lineage of the validation step.
    const lineage = await platform.store.getDatasetLineage('vstep_events', 1);
    assert.ok(lineage?.readBy.some((a) => a.runId === ok.runId && a.nodeId === 'vstep.validate'));

    // Bad data: the step fails once (no retries) with each violated expectation, counts and samples.
    const bad = await platform.run(flow, { rows: 200, bad: true });
    assert.equal(bad.status, 'failed');
    const node = await platform.store.getNode(bad.runId, 'vstep.validate');
    assert.equal(node?.state, 'failed');
    const attempts = await platform.store.getAttempts(bad.runId, 'vstep.validate');
    assert.equal(attempts.length, 1, 'not retried');
    assert.equal(attempts[0]?.errorKind, 'validation', 'a validation failure, not the user\'s bug');
    const failed = (await platform.store.getEvents(bad.runId)).find((e) => e.type === 'attempt_failed' && e.nodeId === 'vstep.validate');
    const data = failed?.data as { kind: string; code: string; details: ValidationSummary };
    assert.equal(data.code, 'validation_failed');
    assert.equal(data.details.passed, false);
    assert.equal(data.details.failed, 3, 'the report travels with the failure');
    const error = node?.error ?? '';
    assert.match(error, /Validation "vstep" of dataset "vstep_events" \(vstep_events\.csv\): FAILED — 3 failed, 1 warning/);
    assert.match(error, /✗ FAIL notNull\(delay\): expected no nulls in delay; 1 of 200 rows violate \(0\.50%\)\n\s+e\.g\. \{"id":12,"delay":null/);
    assert.match(error, /✗ FAIL range\(delay\): expected delay ≥ -1000 and ≤ 2000; 4 of 200 rows violate \(2\.0%\)\n\s+e\.g\. \{"id":7,"delay":5000/);
    assert.match(error, /✗ FAIL matches\(origin\): .*1 of 200 rows violate.*\n\s+e\.g\. \{"id":11,"delay":\d+,"origin":"xx1"/);
    assert.match(error, /! WARN delay >= -100/);
    assert.equal((await platform.store.getNode(bad.runId, 'vstep.consume'))?.state === 'succeeded', false, 'downstream did not run');

    // Cached on the same data.
    const again = await platform.run(flow, { rows: 200, bad: false });
    assert.ok((await platform.store.getNode(again.runId, 'vstep.validate'))?.cachedFrom, 'validation of unchanged data is cached');
  } finally {
    await dispose();
  }
});

test('validationTask: an expectation on an unknown column fails the step with the suite error', async () => {
  const broken = validationTask({ name: 'vstep.validate-unknown', suite: { expectations: [range('no_such_column', { min: 0 })] } });
  const wf = workflow({ name: 'vstep-unknown' }, () => broken({ data: makeData({ rows: 20, bad: false }).events }));
  const { platform, dispose } = await tempPlatform();
  try {
    const run = await platform.run(wf, {});
    assert.equal(run.status, 'failed');
    const node = await platform.store.getNode(run.runId, 'vstep.validate-unknown');
    assert.match(node?.error ?? '', /no_such_column/);
  } finally {
    await dispose();
  }
});
