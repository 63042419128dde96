/**
 * The deciding half of a driver step, over the driver's state: evaluate nodes whose dependencies are done (guards,
 * inputs, expansions, cache keys and hits — hits make more nodes ready, so it loops), then pick what fits in the
 * free capacity and claim it (and a few more ahead of capacity). It only records decisions in the machine and in
 * the step's writes; the driver commits them before acting.
 */
import { messageOf } from '../errors.ts';
import type { Mutation, NodeRecord, StoredValue } from '../ports/metadata.ts';
import type { Trial } from '../tuning/trial.ts';
import { cacheKey, taskCodeHash, type KeyParts } from './cache-key.ts';
import type { StepWrites } from './commit.ts';
import { evaluateNode, type Evaluation } from './evaluate.ts';
import type { Demand, RunMachine } from './machine.ts';
import type { DriverOptions } from './options.ts';
import { inputPaths, pathWarnings } from './path-inputs.ts';
import { trialCacheContext } from './tune.ts';
import type { ValueResolver } from './values.ts';

/** How a ready node will run, decided when it was evaluated. */
export interface Dispatch {
  input: StoredValue;
  key?: string;
  parts?: KeyParts;
  executor: string;
  env: Record<string, string>;
  timeoutMs?: number;
  demand: Demand;
}

export type StepEvent = { type: string; nodeId?: string; attempt?: number; data?: unknown };

/** What deciding reads and updates: the driver's options and its state for one run. */
export interface DriverState {
  readonly runId: string;
  readonly o: DriverOptions;
  readonly machine: RunMachine;
  readonly values: ValueResolver;
  readonly leaseMs: number;
  readonly claimAhead: number;
  readonly dispatches: Map<string, Dispatch>;
  /** Nodes claimed ahead of free capacity (committed claims, not started yet): nodeId → attempt. */
  readonly preclaimed: Map<string, number>;
  /** Nodes whose success only this engine knows so far (finished attempts of ours, not committed yet). */
  readonly uncommittedSuccess: Set<string>;
  readonly deadOwners: ReadonlySet<string>;
  readonly studies: Map<string, (Trial | undefined)[]>;
  readonly codeRecorded: Set<string>;
}

type ToLookup = { id: string; ev: Extract<Evaluation, { kind: 'dispatch' }> };

/** Evaluates every resolvable node (looping while cache hits make more resolvable). Returns whether any was. */
export async function evaluateReady(s: DriverState, now: number, step: StepWrites, events: StepEvent[]): Promise<boolean> {
  let progressed = false;
  for (let ids = s.machine.takeResolvable(); ids.length; ids = s.machine.takeResolvable()) {
    progressed = true;
    const toLookup: ToLookup[] = [];
    for (const id of ids) {
      const { o } = s;
      const ev = await evaluateNode(s.machine.get(id), {
        values: s.values,
        tasks: o.tasks,
        dynamicBuilders: o.dynamicBuilders,
        workflowName: o.workflowName,
        machine: s.machine,
        capacity: o.capacity,
        pools: o.pools,
        env: o.env,
        defaultExecutor: o.defaultExecutor,
        studies: s.studies,
      });
      applyEvaluation(s, id, ev, now, step, events, toLookup);
    }
    if (toLookup.length) await lookupCache(s, toLookup, now, step.muts, events);
  }
  return progressed;
}

function applyEvaluation(s: DriverState, id: string, ev: Evaluation, now: number, step: StepWrites, events: StepEvent[], toLookup: ToLookup[]): void {
  const { runId, machine } = s;
  const muts = step.muts;
  const n = machine.get(id);
  // An expanded node is running in the store — or pending again after a resume reset it.
  const from: ('pending' | 'running')[] = n.expansion ? ['running', 'pending'] : ['pending'];
  switch (ev.kind) {
    case 'skip':
      machine.skip(id);
      muts.push({ type: 'setState', runId, nodeId: id, from, state: 'skipped', at: now });
      events.push({ type: 'node_skipped', nodeId: id, data: { reason: ev.reason } });
      return;
    case 'fail':
      machine.fail(id, ev.message, { allowed: false, notBefore: 0 });
      muts.push({ type: 'setState', runId, nodeId: id, from, state: 'failed', at: now, error: ev.message });
      events.push({ type: 'node_failed', nodeId: id, data: { message: ev.message } });
      return;
    case 'succeed':
      machine.succeed(id, ev.output);
      muts.push({ type: 'setState', runId, nodeId: id, from, state: 'succeeded', at: now, output: ev.output });
      return;
    case 'expand': {
      machine.add(ev.nodes.map((spec) => ({ spec, phase: 'pending' as const })));
      // A study expands step by step; each step applies only over the step it was decided from (several engines
      // may evaluate the same study), and its new trials only with it. A lost step makes this engine reload.
      const study = n.spec.kind === 'tune';
      if (study) {
        step.finishIdx.push(muts.length);
        muts.push({ type: 'setState', runId, nodeId: id, from, state: 'running', at: now, expansion: ev.expansion, ifExpansion: n.expansion ?? null });
      }
      if (ev.nodes.length) {
        const seq0 = machine.nodes.size - ev.nodes.length;
        const nodes = ev.nodes.map((spec, i): NodeRecord => ({ runId, id: spec.id, seq: seq0 + i, spec, state: 'pending', attempts: 0, retryBase: 0 }));
        muts.push({ type: 'insertNodes', nodes, ...(study ? { ifParent: { nodeId: id, expansion: ev.expansion } } : {}) });
      }
      if (!study) muts.push({ type: 'setState', runId, nodeId: id, from: ['pending'], state: 'running', at: now, expansion: ev.expansion });
      events.push({ type: 'node_expanded', nodeId: id, data: { nodes: ev.nodes.length, ...(ev.expansion.branch !== undefined ? { branch: ev.expansion.branch } : {}) } });
      machine.expand(id, ev.expansion, ev.newDeps);
      return;
    }
    case 'dispatch':
      toLookup.push({ id, ev });
      return;
  }
}

async function lookupCache(s: DriverState, items: ToLookup[], now: number, muts: Mutation[], events: StepEvent[]): Promise<void> {
  const keyed: (ToLookup & { key?: string; parts?: KeyParts })[] = [];
  for (const it of items) {
    const def = it.ev.def;
    const cacheOn = (s.machine.get(it.id).spec.options?.cache ?? def.options.cache) !== false;
    if (!cacheOn) {
      keyed.push(it);
      continue;
    }
    try {
      const paths = await inputPaths(def, it.ev.value, s.o.fingerprintPaths);
      const { key, parts } = cacheKey(def, it.ev.input, it.ev.value, it.ev.env, trialCacheContext(s.machine, it.id), paths);
      keyed.push({ ...it, key, parts });
    } catch (err) {
      // A code hash that cannot be computed disables caching for this node rather than failing it.
      events.push({ type: 'cache_key_failed', nodeId: it.id, data: { message: messageOf(err) } });
      keyed.push(it);
    }
  }
  const keys = keyed.filter((k) => k.key).map((k) => k.key!);
  const hits = keys.length ? await s.o.store.lookupCache(keys) : new Map();
  for (const k of keyed) {
    if (k.parts && 'hash' in k.parts.code && !s.codeRecorded.has(k.parts.code.hash)) {
      s.codeRecorded.add(k.parts.code.hash);
      muts.push({ type: 'putCode', hash: k.parts.code.hash, task: k.parts.task, parts: taskCodeHash(k.ev.def).parts, at: now });
    }
    const with_ = { input: k.ev.input, ...(k.key ? { key: k.key, parts: k.parts } : {}) };
    const hit = k.key ? hits.get(k.key) : undefined;
    for (const message of pathWarnings(k.id, k.parts, !!hit)) {
      events.push({ type: 'path_warning', nodeId: k.id, data: { message } });
      s.o.onEvent?.({ type: 'warning', at: now, nodeId: k.id, message });
    }
    if (hit) {
      const from = `${hit.runId}/${hit.nodeId}`;
      s.machine.succeed(k.id, hit.output, from);
      muts.push({ type: 'setState', runId: s.runId, nodeId: k.id, from: ['pending', 'running'], state: 'succeeded', at: now, output: hit.output, cachedFrom: from, ...with_ });
      events.push({ type: 'cache_hit', nodeId: k.id, data: { from } });
      continue;
    }
    s.dispatches.set(k.id, {
      input: k.ev.input,
      ...(k.key ? { key: k.key, parts: k.parts! } : {}),
      executor: k.ev.executor,
      env: k.ev.env,
      ...(k.ev.timeoutMs !== undefined ? { timeoutMs: k.ev.timeoutMs } : {}),
      demand: k.ev.demand,
    });
    s.machine.enqueue(k.id, k.ev.demand);
  }
}

/**
 * Picks ready nodes that fit and claims them. A node claimed ahead in an earlier, committed step starts at once;
 * a node one of whose dependencies' success is still only in our buffer starts speculatively (no other engine can
 * claim it: in the store it is not ready); any other waits for its claim's commit. Then keeps a few more ready
 * nodes claimed beyond the free capacity, so slots freed by finishing attempts are refilled without a commit each.
 * `start` is called for every node that starts now. Returns whether anything was dispatched.
 */
export function dispatchReady(s: DriverState, now: number, step: StepWrites, events: StepEvent[], start: (nodeId: string, attempt: number) => void): boolean {
  let progressed = false;
  const startedAhead: { nodeId: string; attempt: number }[] = [];
  for (const id of s.machine.pickDispatch(now)) {
    progressed = true;
    const n = s.machine.get(id);
    const pre = s.preclaimed.get(id);
    if (pre !== undefined) {
      s.preclaimed.delete(id);
      s.machine.claimed(id, pre);
      startedAhead.push({ nodeId: id, attempt: pre });
      start(id, pre);
      continue;
    }
    const attempt = n.attempts + 1;
    let speculative = false;
    for (const dep of n.deps) if (s.uncommittedSuccess.has(dep)) speculative = true;
    step.claims.push({ idx: step.muts.length, nodeId: id, attempt, started: speculative });
    step.muts.push(claimOf(s, id, attempt, now));
    events.push({ type: 'attempt_started', nodeId: id, attempt });
    if (speculative) {
      s.machine.claimed(id, attempt);
      start(id, attempt);
    }
  }
  if (s.claimAhead > 0 && s.preclaimed.size <= s.claimAhead / 2) {
    for (const id of s.machine.peekReady(s.claimAhead - s.preclaimed.size, s.preclaimed)) {
      const attempt = s.machine.get(id).attempts + 1;
      step.claims.push({ idx: step.muts.length, nodeId: id, attempt, started: false, ahead: true });
      s.preclaimed.set(id, attempt);
      step.muts.push(claimOf(s, id, attempt, now, true));
    }
  }
  // A claim made ahead is recorded `claimed` until it starts, so one its engine never started (it died first) is
  // shown as released, not as a lost attempt. This write rides on the step's commit.
  if (startedAhead.length) step.muts.push({ type: 'startAttempts', runId: s.runId, attempts: startedAhead, at: now });
  return progressed;
}

/** The claim of attempt `attempt` of a ready node, with the input and cache key it will run with. */
function claimOf(s: DriverState, id: string, attempt: number, now: number, ahead = false): Mutation {
  const n = s.machine.get(id);
  const d = s.dispatches.get(id)!;
  return {
    type: 'claim',
    runId: s.runId,
    nodeId: id,
    attempt,
    owner: s.o.owner,
    leaseUntil: now + s.leaseMs,
    now,
    deadOwners: n.takeover ? [...s.deadOwners] : [],
    // Dependencies must be succeeded in the store too (a stale view never claims); very wide fan-ins skip it.
    deps: n.deps.size <= 200 ? [...n.deps] : [],
    ...(n.spec.trial !== undefined ? { ifSpec: JSON.stringify(n.spec) } : {}),
    input: d.input,
    ...(d.key ? { key: d.key, parts: d.parts } : {}),
    executor: d.executor,
    ...(ahead ? { ahead: true } : {}),
  };
}
