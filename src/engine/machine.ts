/**
 * RunMachine: the pure state of one run — nodes, their phases and dependency counts, the ready queue and the
 * resources in use. It performs no I/O and reads no clock: callers pass `now`. The runner (runner.ts) feeds it
 * results and asks it for decisions; everything it decides is recorded by the runner before it is acted upon.
 *
 * Invariants (see ARCHITECTURE.md beside this file):
 * - a node leaves `pending` only when every dependency is terminal;
 * - a failure or cancellation of a dependency makes dependents `upstream_failed`; a skipped dependency (branch
 *   not taken) makes them `skipped`;
 * - resources are taken when a node is dispatched and given back exactly once when its attempt ends.
 */
import type { NodeState, StoredValue } from '../ports/metadata.ts';
import type { Binding } from '../sdk/refs.ts';
import { bindingDeps } from '../sdk/refs.ts';
import { specDeps } from '../spec/graph.ts';
import type { NodeSpec } from '../spec/graph.ts';
import { checkTransition, TERMINAL, type Phase } from './states.ts';

export interface Capacity {
  cpu: number;
  memoryMB: number;
  gpu: number;
}

export interface Demand extends Capacity {
  pool?: string;
}

export interface MachineNode {
  readonly spec: NodeSpec;
  phase: Phase;
  attempts: number;
  retryBase: number;
  output?: StoredValue;
  notBefore?: number;
  error?: string;
  /** map: number of children; dynamic: result binding; select: chosen branch. */
  expansion?: { count?: number; result?: Binding; branch?: boolean };
  /** Node ids this node waits for (grows when a map/dynamic/select expands). */
  deps: Set<string>;
  waiting: number;
  dependents: string[];
  demand?: Demand;
  /**
   * A tune node waiting for its trials is evaluated again as soon as `waiting` drops to this (one trial ended),
   * not only when every trial has: it then starts the next trials.
   */
  wakeAt?: number;
  /** Set when it was taken from a stored `running` node: the claim must take over a dead engine's lease. */
  takeover?: boolean;
  cachedFrom?: string;
}

export interface Transition {
  nodeId: string;
  from: Phase;
  to: Phase;
}

export class RunMachine {
  readonly nodes = new Map<string, MachineNode>();
  private readonly queue: string[] = [];
  private queueHead = 0;
  private readonly resolvable: string[] = [];
  private readonly used: Capacity = { cpu: 0, memoryMB: 0, gpu: 0 };
  private readonly poolUsed = new Map<string, number>();
  /** Every phase change, for the runner to record and report; drained by takeTransitions(). */
  private transitions: Transition[] = [];
  private terminalCount = 0;
  private readonly retrying = new Set<string>();
  private foreignCount = 0;

  constructor(
    readonly capacity: Capacity,
    readonly pools: Record<string, number>,
  ) {}

  // ---- building ----

  /** Adds nodes (static at start, or created by an expansion). Dependencies must already exist or be in `specs`. */
  add(records: { spec: NodeSpec; phase: Phase; attempts?: number; retryBase?: number; output?: StoredValue; expansion?: MachineNode['expansion']; error?: string; cachedFrom?: string; takeover?: boolean }[]): void {
    const added: MachineNode[] = [];
    for (const r of records) {
      if (this.nodes.has(r.spec.id)) continue;
      const node: MachineNode = {
        spec: r.spec,
        phase: r.phase,
        attempts: r.attempts ?? 0,
        retryBase: r.retryBase ?? 0,
        deps: specDeps(r.spec),
        waiting: 0,
        dependents: [],
        ...(r.output ? { output: r.output } : {}),
        ...(r.expansion ? { expansion: r.expansion } : {}),
        ...(r.error ? { error: r.error } : {}),
        ...(r.cachedFrom ? { cachedFrom: r.cachedFrom } : {}),
        ...(r.takeover ? { takeover: true } : {}),
      };
      // Expanded nodes also wait for what their expansion created.
      if (node.expansion) for (const d of this.expansionDeps(node)) node.deps.add(d);
      this.nodes.set(r.spec.id, node);
      added.push(node);
      if (TERMINAL.has(node.phase)) this.terminalCount++;
      if (node.phase === 'foreign') this.foreignCount++;
      if (node.phase === 'retrying') this.retrying.add(node.spec.id);
    }
    for (const node of added) this.wire(node);
  }

  private expansionDeps(node: MachineNode): string[] {
    const e = node.expansion!;
    if ((node.spec.kind === 'map' || node.spec.kind === 'tune') && e.count !== undefined) return Array.from({ length: e.count }, (_, i) => `${node.spec.id}[${i}]`);
    if (node.spec.kind === 'dynamic' && e.result) return [...bindingDeps(e.result)];
    if (node.spec.kind === 'select' && e.branch !== undefined) return [...bindingDeps(e.branch ? node.spec.then! : node.spec.else!)];
    return [];
  }

  private wire(node: MachineNode): void {
    let waiting = 0;
    for (const d of node.deps) {
      const dep = this.nodes.get(d);
      if (!dep) throw new Error(`internal: node "${node.spec.id}" depends on unknown node "${d}"`);
      dep.dependents.push(node.spec.id);
      if (!TERMINAL.has(dep.phase)) waiting++;
    }
    node.waiting = waiting;
    // A study read back from the store is evaluated at once: trials may have ended since it last started some.
    if (node.spec.kind === 'tune' && node.phase === 'expanded') node.wakeAt = waiting;
    if (node.phase === 'pending' || node.phase === 'expanded') this.settle(node);
  }

  /** Checks a waiting node whose dependencies may all be done. */
  private settle(node: MachineNode): void {
    if (node.waiting > 0 && !(node.phase === 'expanded' && node.wakeAt !== undefined && node.waiting <= node.wakeAt)) return;
    if (node.phase !== 'pending' && node.phase !== 'expanded') return;
    const outcome = this.depOutcome(node);
    if (outcome === 'upstream_failed') this.setPhase(node, 'upstream_failed');
    else if (outcome === 'skipped') this.setPhase(node, 'skipped');
    else {
      this.setPhase(node, 'resolving');
      this.resolvable.push(node.spec.id);
    }
  }

  private depOutcome(node: MachineNode): 'ok' | 'skipped' | 'upstream_failed' {
    let skipped = false;
    for (const d of node.deps) {
      const dep = this.nodes.get(d)!;
      // A study's failed trials are its business (recorded as failed trials), not an upstream failure.
      if (node.spec.kind === 'tune' && dep.spec.parent === node.spec.id) continue;
      const p = dep.phase;
      if (p === 'failed' || p === 'upstream_failed' || p === 'cancelled') return 'upstream_failed';
      if (p === 'skipped') skipped = true;
    }
    return skipped ? 'skipped' : 'ok';
  }

  private setPhase(node: MachineNode, to: Phase): void {
    const from = node.phase;
    checkTransition(node.spec.id, from, to);
    node.phase = to;
    this.transitions.push({ nodeId: node.spec.id, from, to });
    if (from === 'retrying') this.retrying.delete(node.spec.id);
    if (to === 'retrying') this.retrying.add(node.spec.id);
    if (from === 'foreign') this.foreignCount--;
    if (to === 'foreign') this.foreignCount++;
    if (TERMINAL.has(to) && !TERMINAL.has(from)) {
      this.terminalCount++;
      for (const id of node.dependents) {
        const dep = this.nodes.get(id)!;
        dep.waiting--;
        this.settle(dep);
      }
    }
  }

  // ---- queries ----

  get(nodeId: string): MachineNode {
    const n = this.nodes.get(nodeId);
    if (!n) throw new Error(`internal: unknown node "${nodeId}"`);
    return n;
  }

  done(): boolean {
    return this.terminalCount === this.nodes.size;
  }

  counts(): Record<Phase, number> {
    const c = Object.fromEntries(Object.keys({ pending: 0, resolving: 0, ready: 0, dispatched: 0, foreign: 0, retrying: 0, expanded: 0, succeeded: 0, failed: 0, skipped: 0, upstream_failed: 0, cancelled: 0 }).map((k) => [k, 0])) as Record<Phase, number>;
    for (const n of this.nodes.values()) c[n.phase]++;
    return c;
  }

  /** The run's outcome once done(): failed if any node failed or was cancelled. */
  outcome(): 'succeeded' | 'failed' | 'cancelled' {
    let failed = false;
    for (const n of this.nodes.values()) {
      if (n.phase === 'cancelled') return 'cancelled';
      // A failed trial does not fail the run: its study records it (and fails if no trial completed).
      if ((n.phase === 'failed' || n.phase === 'upstream_failed') && n.spec.trial === undefined) failed = true;
    }
    return failed ? 'failed' : 'succeeded';
  }

  takeTransitions(): Transition[] {
    const t = this.transitions;
    this.transitions = [];
    return t;
  }

  /** Nodes whose dependencies are all done; the runner evaluates them next. */
  takeResolvable(): string[] {
    return this.resolvable.splice(0, this.resolvable.length);
  }

  /** Earliest time a retrying node becomes ready, if any. */
  nextWakeup(): number | undefined {
    let t: number | undefined;
    for (const id of this.retrying) {
      const n = this.nodes.get(id)!;
      if (n.notBefore !== undefined) t = t === undefined ? n.notBefore : Math.min(t, n.notBefore);
    }
    return t;
  }

  hasForeign(): boolean {
    return this.foreignCount > 0;
  }

  // ---- decisions and results ----

  /** After evaluation: the node is a task ready to dispatch. */
  enqueue(nodeId: string, demand: Demand): void {
    const n = this.get(nodeId);
    n.demand = demand;
    this.setPhase(n, 'ready');
    this.queue.push(nodeId);
  }

  /** Returns ready nodes that fit in free capacity and pools, taking their resources (FIFO with backfill). */
  pickDispatch(now: number, limit = Infinity): string[] {
    for (const id of [...this.retrying]) {
      const n = this.nodes.get(id)!;
      if ((n.notBefore ?? 0) <= now) {
        this.setPhase(n, 'ready');
        this.queue.push(id);
      }
    }
    const picked: string[] = [];
    const skipped: string[] = [];
    while (this.queueHead < this.queue.length && picked.length < limit && !this.full()) {
      const id = this.queue[this.queueHead++]!;
      const n = this.nodes.get(id)!;
      if (n.phase !== 'ready') continue;
      if (this.fits(n.demand!)) {
        this.take(n.demand!, 1);
        this.setPhase(n, 'dispatched');
        picked.push(id);
      } else {
        skipped.push(id);
      }
    }
    if (skipped.length) {
      // Keep the ones that did not fit at the head of the queue, in order (they go first next time).
      const rest = this.queue.slice(this.queueHead);
      this.queue.length = 0;
      this.queue.push(...skipped, ...rest);
      this.queueHead = 0;
    } else if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    return picked;
  }

  /** The next `limit` ready nodes in queue order (not taken, and not in `skip`): candidates to claim ahead. */
  peekReady(limit: number, skip: ReadonlyMap<string, unknown>): string[] {
    const out: string[] = [];
    for (let i = this.queueHead; i < this.queue.length && out.length < limit; i++) {
      const id = this.queue[i]!;
      if (this.nodes.get(id)!.phase === 'ready' && !skip.has(id)) out.push(id);
    }
    return out;
  }

  private full(): boolean {
    return this.used.cpu >= this.capacity.cpu && this.capacity.cpu > 0;
  }

  private fits(d: Demand): boolean {
    if (this.used.cpu + d.cpu > this.capacity.cpu + 1e-9) return false;
    if (d.memoryMB && this.used.memoryMB + d.memoryMB > this.capacity.memoryMB) return false;
    if (d.gpu && this.used.gpu + d.gpu > this.capacity.gpu) return false;
    if (d.pool !== undefined && (this.poolUsed.get(d.pool) ?? 0) >= (this.pools[d.pool] ?? Infinity)) return false;
    return true;
  }

  private take(d: Demand, sign: 1 | -1): void {
    this.used.cpu += sign * d.cpu;
    this.used.memoryMB += sign * d.memoryMB;
    this.used.gpu += sign * d.gpu;
    if (d.pool !== undefined) this.poolUsed.set(d.pool, (this.poolUsed.get(d.pool) ?? 0) + sign);
  }

  /** Resources currently in use (for tests and progress). */
  usage(): Capacity & { pools: Record<string, number> } {
    return { ...this.used, pools: Object.fromEntries(this.poolUsed) };
  }

  /** A claim was lost to another engine: give back resources; the node is theirs now. */
  lostClaim(nodeId: string): void {
    const n = this.get(nodeId);
    if (n.phase === 'dispatched') this.take(n.demand!, -1);
    this.setPhase(n, 'foreign');
  }

  /** After a reload: a node whose attempt this engine still runs. */
  adopt(nodeId: string, demand: Demand): void {
    const n = this.get(nodeId);
    n.demand = demand;
    this.take(demand, 1);
    this.setPhase(n, 'dispatched');
  }

  /** Marks a dispatched node's attempt number (after a successful claim). */
  claimed(nodeId: string, attempt: number): void {
    const n = this.get(nodeId);
    n.attempts = attempt;
    n.takeover = false;
  }

  succeed(nodeId: string, output: StoredValue, cachedFrom?: string): void {
    const n = this.get(nodeId);
    if (n.phase === 'dispatched') this.take(n.demand!, -1);
    n.output = output;
    if (cachedFrom) n.cachedFrom = cachedFrom;
    this.setPhase(n, 'succeeded');
  }

  /** An attempt failed: returns the new phase (retrying if the policy allows another attempt). */
  fail(nodeId: string, error: string, retry: { allowed: boolean; notBefore: number }): Phase {
    const n = this.get(nodeId);
    if (n.phase === 'dispatched') this.take(n.demand!, -1);
    n.error = error;
    if (retry.allowed) {
      n.notBefore = retry.notBefore;
      this.setPhase(n, 'retrying');
    } else {
      this.setPhase(n, 'failed');
    }
    return n.phase;
  }

  /** A guard did not hold: the node and everything only reachable through it is skipped. */
  skip(nodeId: string): void {
    this.setPhase(this.get(nodeId), 'skipped');
  }

  cancel(nodeId: string): void {
    const n = this.get(nodeId);
    if (TERMINAL.has(n.phase)) return;
    if (n.phase === 'dispatched') this.take(n.demand!, -1);
    this.setPhase(n, 'cancelled');
  }

  /** Back to waiting (used when the runner must retry an evaluation, e.g. after a refresh). */
  unresolve(nodeId: string): void {
    this.setPhase(this.get(nodeId), 'pending');
  }

  /**
   * A map, dynamic or select node created nodes (or chose a branch): it now also waits for `newDeps`. The new nodes
   * must have been added first.
   */
  expand(nodeId: string, expansion: NonNullable<MachineNode['expansion']>, newDeps: Iterable<string>): void {
    const n = this.get(nodeId);
    n.expansion = expansion;
    delete n.wakeAt;
    this.setPhase(n, 'expanded');
    for (const d of newDeps) {
      if (n.deps.has(d)) continue;
      const dep = this.nodes.get(d);
      if (!dep) throw new Error(`internal: expansion of "${nodeId}" refers to unknown node "${d}"`);
      n.deps.add(d);
      dep.dependents.push(nodeId);
      if (!TERMINAL.has(dep.phase)) n.waiting++;
    }
    if (n.spec.kind === 'tune') n.wakeAt = n.waiting - 1;
    this.settle(n);
  }

  /** Another engine's progress, read from the store. */
  applyForeign(nodeId: string, state: NodeState, output: StoredValue | undefined, error: string | undefined): void {
    const n = this.get(nodeId);
    if (TERMINAL.has(n.phase)) return;
    if (n.phase === 'dispatched') return; // ours; our own result decides
    if (state === 'succeeded' && output) {
      n.output = output;
      this.setPhase(n, n.phase === 'foreign' || n.phase === 'pending' || n.phase === 'expanded' ? 'succeeded' : 'succeeded');
    } else if (state === 'failed' || state === 'upstream_failed' || state === 'cancelled' || state === 'skipped') {
      if (error) n.error = error;
      this.setPhase(n, state);
    }
  }
}
