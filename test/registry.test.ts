// The model registry service on a temporary platform: registration and signatures, gates refusing a worse model,
// the approval flow, rollback, the alias history, and errors for unknown models, versions, aliases, promotions.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { z } from 'zod';
import type { Platform } from '../src/composition/platform.ts';
import { BatonError } from '../src/errors.ts';
import { evaluateGate, formatGateReport, GateRefused, parseGateMetric, signatureOfTask, type Gate } from '../src/registry/index.ts';
import { task } from '../src/sdk/index.ts';
import { tempPlatform } from './support/platform.ts';

let p: Platform;
let dispose: () => Promise<void>;
before(async () => {
  ({ platform: p, dispose } = await tempPlatform());
});
after(() => dispose());

const gate: Gate = { metrics: [{ name: 'macroF1', direction: 'maximize', minDelta: 0 }, { name: 'latency_ms', direction: 'minimize', maxRegression: 0.1 }] };
const isCode = (code: string, re?: RegExp) => (err: unknown) => err instanceof BatonError && err.code === code && (!re || re.test(err.message));

async function reg(name: string, macroF1: number, latency: number) {
  const art = await p.artifacts.put(`model ${name} ${macroF1} ${latency} ${Math.random()}`);
  return p.models.register(name, { artifact: art.sha256, flavor: 'js', metrics: { macroF1, latency_ms: latency } });
}

test('versions are numbered; a signature comes from a task\'s zod types; lineage is kept', async () => {
  const train = task({ name: 'reg-train', input: z.object({ rows: z.number().int() }), output: z.object({ label: z.enum(['a', 'b']) }), run: () => ({ label: 'a' as const }) });
  const art = await p.artifacts.put('weights');
  const v1 = await p.models.register('sig', { artifact: art.sha256, flavor: 'js', signature: signatureOfTask(train), tags: { team: 'x' }, lineage: { runId: 'r1', nodeId: 'train', attempt: 1, codeHash: 'abc' } });
  const v2 = await p.models.register('sig', { artifact: { $artifact: 'file', sha256: art.sha256, size: art.size, name: 'w.json' }, flavor: 'js', signature: { input: z.object({ x: z.number() }) } });
  assert.deepEqual([v1.version, v2.version], [1, 2]);
  assert.deepEqual((v1.signature?.input as { properties: unknown }).properties, { rows: { type: 'integer', minimum: -9007199254740991, maximum: 9007199254740991 } });
  assert.deepEqual((v1.signature?.output as { properties: { label: unknown } }).properties.label, { type: 'string', enum: ['a', 'b'] });
  assert.equal((v2.signature?.input as { type: string }).type, 'object');
  assert.deepEqual(v1.lineage, { runId: 'r1', nodeId: 'train', attempt: 1, codeHash: 'abc' });
  assert.equal((await p.models.resolve('sig')).version, 2);
  assert.equal((await p.models.resolve('sig@1')).version, 1);
  await assert.rejects(p.models.register('sig', { artifact: 'f'.repeat(64), flavor: 'js' }), isCode('not_found', /not in the artifact store/));
  await assert.rejects(p.models.register('bad name', { artifact: art.sha256, flavor: 'js' }), isCode('usage'));
  await assert.rejects(p.models.register('sig', { artifact: art.sha256, flavor: 'js', metrics: { f1: NaN } }), isCode('usage', /finite/));
});

test('a gate refuses a worse model with a report naming each metric, and records the refusal', async () => {
  const v1 = await reg('clf', 0.8, 10);
  const first = await p.models.promote('clf', v1.version, { gate, reason: 'first model' });
  assert.equal(first.status, 'promoted');
  assert.equal(first.report?.passed, true, 'no champion: passes');
  const worse = await reg('clf', 0.75, 10.5);
  const err = await p.models.promote('clf', worse.version, { gate, actor: 'bob@ci' }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof GateRefused, String(err));
  assert.equal(err.code, 'conflict');
  assert.match(err.message, /FAIL macroF1 \(maximize\): candidate 0\.75 vs champion 0\.8/);
  assert.match(err.message, /ok {3}latency_ms \(minimize\): candidate 10\.5 vs champion 10/);
  assert.equal((await p.models.resolve('clf@champion')).version, v1.version, 'the champion did not move');
  const refused = await p.store.getPromotion(err.promotionId);
  assert.equal(refused?.status, 'rejected');
  assert.equal(refused?.decidedBy, 'gate');
  // Latency regressing beyond 10% fails even with a better F1.
  const slow = await reg('clf', 0.9, 12);
  await assert.rejects(p.models.promote('clf', slow.version, { gate }), (e: unknown) => e instanceof GateRefused && /FAIL latency_ms/.test(e.message) && /ok {3}macroF1/.test(e.message));
  const better = await reg('clf', 0.85, 10.9);
  const ok = await p.models.promote('clf', better.version, { gate, actor: 'ann@host', reason: 'f1 +0.05' });
  assert.deepEqual([ok.status, ok.from, ok.version], ['promoted', v1.version, better.version]);
  assert.equal((await p.models.resolve('clf@champion')).version, better.version);
  assert.equal((await p.models.promote('clf', better.version, { gate })).status, 'unchanged');
});

test('gate rules: minDelta, thresholds, missing metrics, parsing', () => {
  const who = { name: 'm', alias: 'champion' };
  const r = evaluateGate({ metrics: [{ name: 'auc', direction: 'maximize', minDelta: 0.01, threshold: 0.7 }, { name: 'loss', direction: 'minimize' }] }, who, { version: 2, metrics: { auc: 0.805 } }, { version: 1, metrics: { auc: 0.8, loss: 1 } });
  assert.equal(r.passed, false);
  assert.deepEqual(r.checks.map((c) => c.passed), [false, false]);
  assert.match(r.checks[1]!.note!, /candidate v2 has no metric "loss"/);
  assert.match(formatGateReport(r), /needs ≥ 0\.7 and ≥ champion \+ 0\.01/);
  const first = evaluateGate({ metrics: [{ name: 'auc', direction: 'maximize', threshold: 0.9 }] }, who, { version: 1, metrics: { auc: 0.85 } });
  assert.equal(first.passed, false, 'a threshold applies even without a champion');
  assert.deepEqual(parseGateMetric('latency_ms:min:regress=0.1'), { name: 'latency_ms', direction: 'minimize', maxRegression: 0.1 });
  assert.deepEqual(parseGateMetric('macroF1:max:delta=0.01:threshold=0.5'), { name: 'macroF1', direction: 'maximize', minDelta: 0.01, threshold: 0.5 });
  assert.throws(() => parseGateMetric('macroF1'), isCode('usage', /NAME:max/));
  assert.throws(() => parseGateMetric('macroF1:up'), isCode('usage'));
  assert.throws(() => parseGateMetric('macroF1:max:delta=x'), isCode('usage'));
});

test('approval flow: a pending promotion moves the alias only when approved; decided promotions are final', async () => {
  const v1 = await reg('appr', 0.7, 5);
  await p.models.promote('appr', v1.version, { reason: 'bootstrap' });
  const v2 = await reg('appr', 0.72, 5);
  const pending = await p.models.promote('appr', v2.version, { gate, requireApproval: true, actor: 'bob@ci', reason: 'nightly' });
  assert.equal(pending.status, 'pending');
  const id = pending.promotion!.id;
  assert.equal((await p.models.resolve('appr@champion')).version, v1.version, 'not moved yet');
  assert.deepEqual((await p.models.promotions({ status: 'pending' })).map((x) => x.id), [id]);
  const done = await p.models.approve(id, { actor: 'carol@host' });
  assert.equal(done.status, 'promoted');
  assert.equal((await p.models.resolve('appr@champion')).version, v2.version);
  const record = await p.store.getPromotion(id);
  assert.deepEqual([record?.status, record?.decidedBy, record?.requestedBy], ['approved', 'carol@host', 'bob@ci']);
  await assert.rejects(p.models.approve(id), isCode('conflict', /already approved by carol@host/));
  await assert.rejects(p.models.reject(id, { reason: 'too late' }), isCode('conflict'));

  const v3 = await reg('appr', 0.9, 5);
  const second = await p.models.promote('appr', v3.version, { requireApproval: true });
  await assert.rejects(p.models.reject(second.promotion!.id, { reason: '' }), isCode('usage', /--reason/));
  const rejected = await p.models.reject(second.promotion!.id, { actor: 'dan@host', reason: 'wait for the A/B test' });
  assert.deepEqual([rejected.status, rejected.decidedBy, rejected.decisionReason], ['rejected', 'dan@host', 'wait for the A/B test']);
  assert.equal((await p.models.resolve('appr@champion')).version, v2.version);
  await assert.rejects(p.models.approve('pr-nope'), isCode('not_found', /No promotion "pr-nope"/));

  // The gate runs again at approval: a champion that moved meanwhile can make a pending candidate worse.
  const v4 = await reg('appr', 0.75, 5);
  const gated = await p.models.promote('appr', v4.version, { gate, requireApproval: true });
  await p.models.setAlias('appr', 'champion', v3.version, { reason: 'manual' });
  await assert.rejects(p.models.approve(gated.promotion!.id), isCode('conflict', /no longer passes its gate/));
  assert.equal((await p.store.getPromotion(gated.promotion!.id))?.status, 'pending');
});

test('rollback moves the alias back through its history, recorded with who, when and why', async () => {
  const vs = [await reg('rb', 0.1, 1), await reg('rb', 0.2, 1), await reg('rb', 0.3, 1)];
  for (const v of vs) await p.models.promote('rb', v.version, { actor: 'ann@host', reason: `v${v.version}` });
  await p.models.setAlias('rb', 'challenger', 1, { actor: 'ann@host', reason: 'shadow' });
  await assert.rejects(p.models.rollback('rb', { reason: '' }), isCode('usage'));
  const back = await p.models.rollback('rb', { actor: 'ops@host', reason: 'v3 broke prod' });
  assert.deepEqual([back.from, back.to], [3, 2]);
  assert.equal((await p.models.resolve('rb@champion')).version, 2);
  assert.deepEqual((await p.models.rollback('rb', { actor: 'ops@host', reason: 'v2 too' })).to, 1);
  await assert.rejects(p.models.rollback('rb', { reason: 'again' }), isCode('conflict', /no earlier version/));
  const history = await p.models.history('rb', 'champion');
  assert.deepEqual(history.map((h) => [h.fromVersion, h.toVersion, h.kind, h.actor, h.reason]), [
    [undefined, 1, 'promote', 'ann@host', 'v1'],
    [1, 2, 'promote', 'ann@host', 'v2'],
    [2, 3, 'promote', 'ann@host', 'v3'],
    [3, 2, 'rollback', 'ops@host', 'v3 broke prod'],
    [2, 1, 'rollback', 'ops@host', 'v2 too'],
  ]);
  assert.ok(history.every((h) => h.at > 0));
  await assert.rejects(p.models.rollback('rb', { alias: 'staging', reason: 'x' }), isCode('not_found', /no alias "staging".*challenger → v1, champion → v1/));
  const details = await p.models.show('rb@champion');
  assert.equal(details.version.version, 1);
  assert.deepEqual(details.aliases.map((a) => [a.alias, a.version]), [['challenger', 1], ['champion', 1]]);
  assert.equal(details.history.length, 6);
});

test('unknown models, versions and aliases are not_found and say what exists', async () => {
  await assert.rejects(p.models.resolve('nope'), isCode('not_found', /No model "nope".*Models: .*clf/));
  await assert.rejects(p.models.resolve('clf@99'), isCode('not_found', /has no version 99. Its versions: 1, 2, 3, 4/));
  await assert.rejects(p.models.resolve('clf@staging'), isCode('not_found', /has no alias "staging". Its aliases: champion → v4/));
  await assert.rejects(p.models.promote('clf', 99), isCode('not_found', /no version 99/));
  await assert.rejects(p.models.setAlias('clf', 'latest', 1), isCode('usage', /reserved/));
  await assert.rejects(p.models.promote('clf', 'x'), isCode('usage'));
});
