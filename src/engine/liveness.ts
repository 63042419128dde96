/**
 * Leases and liveness: which engines holding a run's nodes are dead, and what phase a stored node has for this
 * driver. An engine is dead when its heartbeat is older than a lease, or at once when it ran on this host and its
 * process is gone (including zombies).
 */
import type { Host } from '../ports/clock.ts';
import type { MetadataStore, NodeRecord } from '../ports/metadata.ts';
import type { Phase } from './states.ts';

/** Owners of this run's running nodes (other than `self`) that are dead, plus `self` (its stale claims are free). */
export async function deadOwners(store: MetadataStore, records: readonly NodeRecord[], self: string, host: Host, leaseMs: number, now: number): Promise<Set<string>> {
  const owners = [...new Set(records.filter((r) => r.state === 'running' && r.leaseOwner && r.leaseOwner !== self).map((r) => r.leaseOwner!))];
  const dead = new Set<string>();
  if (owners.length) {
    const known = new Map((await store.getEngines(owners)).map((e) => [e.id, e]));
    for (const id of owners) {
      const e = known.get(id);
      if (!e || (e.host === host.hostname && !host.isProcessAlive(e.pid)) || e.heartbeatAt + leaseMs < now) dead.add(id);
    }
  }
  dead.add(self);
  return dead;
}

/**
 * A stored node's phase for this driver: `dispatched` when it runs on our executors, `foreign` when a live engine
 * holds it, `pending` when it is free to take (never leased, lease expired, owner dead, or our own claim that is
 * not in flight: claimed ahead, or stale).
 */
export function phaseOf(r: NodeRecord, self: string, inFlight: ReadonlyMap<string, number>, now: number, dead: ReadonlySet<string>): Phase {
  switch (r.state) {
    case 'pending':
      return 'pending';
    case 'retrying':
      return 'retrying';
    case 'running':
      if (r.spec.kind !== 'task') return r.expansion ? 'expanded' : 'pending';
      if (r.leaseOwner === self) return inFlight.get(r.id) === r.attempts ? 'dispatched' : 'pending';
      if (!r.leaseOwner || dead.has(r.leaseOwner) || (r.leaseUntil ?? 0) < now) return 'pending';
      return 'foreign';
    default:
      return r.state;
  }
}
