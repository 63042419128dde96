/**
 * Group commit: the mutations of several driver steps, buffered and committed together, in order, in ONE
 * transaction. The driver flushes when an attempt waits for its claim, when it would otherwise sit idle, or after
 * `commitDelayMs`. A crash loses at most the buffered decisions; the store only ever holds a consistent prefix.
 *
 * Lock order: dataset and model registrations lock their row until commit. Two engines committing versions of
 * several datasets or models in opposite orders could deadlock on PostgreSQL, so within one commit they go last,
 * datasets then models, each sorted by name (they only depend on finishes earlier in the batch).
 */
import type { MetadataStore, Mutation } from '../ports/metadata.ts';

/** A claim in the buffer: where its mutation is, and whether its attempt already started (speculatively). */
export interface BufferedClaim {
  idx: number;
  nodeId: string;
  attempt: number;
  started: boolean;
  /** Claimed ahead of free capacity (started later, from `preclaimed`). */
  ahead?: boolean;
}

/** What one step decided: its mutations, which of them are fenced finishes, and its claims (indices into `muts`). */
export interface StepWrites {
  muts: Mutation[];
  finishIdx: number[];
  claims: BufferedClaim[];
}

export function emptyStep(): StepWrites {
  return { muts: [], finishIdx: [], claims: [] };
}

/** The outcome of a flush: whether every fenced finish applied, and each claim with whether it applied. */
export interface CommitResult {
  finishesLost: boolean;
  claims: { claim: BufferedClaim; applied: boolean }[];
}

/**
 * The batch to apply for `muts` (registrations last, in lock order) and, for each original position, where its
 * result is in the reordered batch.
 */
export function orderForLocks(muts: readonly Mutation[]): { batch: Mutation[]; position: number[] } {
  const rest: number[] = [];
  const datasets: number[] = [];
  const models: number[] = [];
  muts.forEach((m, i) => (m.type === 'putDatasetVersion' ? datasets : m.type === 'registerModelVersion' ? models : rest).push(i));
  if (datasets.length + models.length < 2) return { batch: [...muts], position: muts.map((_, i) => i) };
  const name = (i: number) => (muts[i] as Extract<Mutation, { type: 'putDatasetVersion' | 'registerModelVersion' }>).version.name;
  const byName = (a: number, b: number) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : a - b);
  datasets.sort(byName);
  models.sort(byName);
  const order = [...rest, ...datasets, ...models];
  const position: number[] = new Array<number>(muts.length);
  order.forEach((orig, at) => (position[orig] = at));
  return { batch: order.map((i) => muts[i]!), position };
}

export class CommitBuffer {
  private muts: Mutation[] = [];
  private finishes: number[] = [];
  private claims: BufferedClaim[] = [];
  /** When the oldest buffered decision was made. */
  since = 0;

  get length(): number {
    return this.muts.length;
  }

  /** Appends one step's writes (decided at `now`). */
  push(step: StepWrites, now: number): void {
    if (step.muts.length === 0) return;
    if (this.muts.length === 0) this.since = now;
    const base = this.muts.length;
    for (const m of step.muts) this.muts.push(m);
    for (const i of step.finishIdx) this.finishes.push(base + i);
    for (const c of step.claims) this.claims.push({ ...c, idx: base + c.idx });
  }

  /** Commits everything buffered in one transaction. */
  async flush(store: MetadataStore): Promise<CommitResult> {
    const muts = this.muts;
    const finishes = this.finishes;
    const claims = this.claims;
    this.muts = [];
    this.finishes = [];
    this.claims = [];
    if (muts.length === 0) return { finishesLost: false, claims: [] };
    const { batch, position } = orderForLocks(muts);
    const applied = await store.apply(batch);
    const ok = (i: number) => !!applied[position[i]!];
    return { finishesLost: finishes.some((i) => !ok(i)), claims: claims.map((claim) => ({ claim, applied: ok(claim.idx) })) };
  }
}
