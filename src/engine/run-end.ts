/**
 * How a run ends once every node is terminal: its status (a succeeded run whose output cannot be assembled fails),
 * its output or error, and the writes that record it.
 */
import { messageOf } from '../errors.ts';
import type { Mutation, StoredValue } from '../ports/metadata.ts';
import type { Binding } from '../spec/binding.ts';
import type { RunMachine } from './machine.ts';
import type { RunOutcome } from './options.ts';
import type { ValueResolver } from './values.ts';

export async function runEnd(runId: string, machine: RunMachine, values: ValueResolver, outputBinding: Binding, now: number): Promise<{ outcome: RunOutcome; muts: Mutation[]; at: number }> {
  const status = machine.outcome();
  let output: StoredValue | undefined;
  let error: string | undefined;
  if (status === 'succeeded') {
    try {
      output = await values.encode(outputBinding);
    } catch (err) {
      error = `The workflow's output could not be assembled: ${messageOf(err)}`;
    }
  } else {
    const failed = [...machine.nodes.values()].filter((n) => n.phase === 'failed');
    error = status === 'cancelled' ? 'cancelled' : `${failed.length} task(s) failed: ${failed.slice(0, 5).map((n) => `${n.spec.id} (${(n.error ?? '').split('\n')[0]})`).join('; ')}`;
  }
  const final = error && status === 'succeeded' ? 'failed' : status;
  const muts: Mutation[] = [
    { type: 'updateRun', runId, status: final, ...(output ? { output } : {}), error: error ?? null, endedAt: now, owner: null },
    { type: 'endTrackingRun', runId, status: final, endTime: now },
    { type: 'events', events: [{ runId, at: now, type: 'run_finished', data: { status: final } }] },
  ];
  return { outcome: { runId, status: final, ...(output ? { output } : {}), ...(error ? { error } : {}) }, muts, at: now };
}
