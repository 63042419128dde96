/**
 * Node states and the transitions the engine may make, as data, checked in one place. The store holds the
 * persistent subset (ports/metadata NodeState); the engine adds in-memory phases while it decides.
 */
import type { NodeState } from '../ports/metadata.ts';

export type Phase =
  | 'pending' // waiting for its dependencies
  | 'resolving' // dependencies done; the runner is evaluating guards, inputs, cache
  | 'ready' // in the dispatch queue
  | 'dispatched' // this engine runs an attempt
  | 'foreign' // another engine holds it
  | 'retrying' // failed, waiting for its backoff to pass
  | 'expanded' // map/dynamic/select: waiting for the nodes it created
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'upstream_failed'
  | 'cancelled';

export const TRANSITIONS: Record<Phase, readonly Phase[]> = {
  pending: ['resolving', 'skipped', 'upstream_failed', 'cancelled', 'foreign', 'succeeded', 'failed'],
  resolving: ['ready', 'expanded', 'succeeded', 'skipped', 'failed', 'cancelled', 'pending', 'foreign'],
  ready: ['dispatched', 'foreign', 'cancelled', 'succeeded', 'failed'],
  dispatched: ['succeeded', 'failed', 'retrying', 'cancelled', 'foreign'],
  foreign: ['dispatched', 'succeeded', 'failed', 'retrying', 'cancelled', 'pending', 'ready', 'skipped', 'upstream_failed', 'expanded', 'foreign'],
  retrying: ['ready', 'cancelled', 'foreign'],
  expanded: ['resolving', 'succeeded', 'failed', 'upstream_failed', 'cancelled', 'skipped', 'foreign', 'expanded'],
  succeeded: [],
  failed: [],
  skipped: [],
  upstream_failed: [],
  cancelled: [],
};

export const TERMINAL: ReadonlySet<Phase> = new Set(['succeeded', 'failed', 'skipped', 'upstream_failed', 'cancelled']);

export function checkTransition(nodeId: string, from: Phase, to: Phase): void {
  if (from === to && (to === 'foreign' || to === 'expanded')) return;
  if (!TRANSITIONS[from].includes(to)) {
    throw new Error(`internal: illegal transition of node "${nodeId}" from ${from} to ${to}`);
  }
}

/** The stored state that corresponds to a phase. */
export function storedState(phase: Phase): NodeState {
  switch (phase) {
    case 'pending':
    case 'resolving':
    case 'ready':
      return 'pending';
    case 'dispatched':
    case 'foreign':
    case 'expanded':
      return 'running';
    default:
      return phase;
  }
}
