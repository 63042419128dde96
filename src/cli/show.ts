/**
 * `baton show RUN`: the run's graph with each node's state, duration, attempts and cache hits. Map items are
 * nested under their map; a large map is summarised (counts per state) and lists only its failed items.
 */
import type { NodeRecord, RunRecord } from '../ports/metadata.ts';
import type { Binding } from '../sdk/refs.ts';
import { specDeps } from '../sdk/build.ts';
import { c, duration, stateLabel, table, when } from './format.ts';

const MAX_CHILDREN = 12;

/** What a node reads from, naming the map item (`train[3]`) rather than the whole map where a binding indexes one. */
function displayDeps(n: NodeRecord, kinds: Map<string, string>): string[] {
  const out = new Set<string>();
  const walk = (b: Binding | undefined): void => {
    if (!b) return;
    if ('ref' in b) {
      const first = b.path?.[0];
      out.add(kinds.get(b.ref) === 'map' && typeof first === 'number' ? `${b.ref}[${first}]` : b.ref);
    } else if ('obj' in b) Object.values(b.obj).forEach(walk);
    else if ('arr' in b) b.arr.forEach(walk);
  };
  walk(n.spec.input);
  walk(n.spec.over);
  walk(n.spec.cond);
  for (const g of n.spec.guards ?? []) walk(g.binding);
  for (const d of specDeps(n.spec)) if (![...out].some((o) => o === d || o.startsWith(`${d}[`))) out.add(d);
  return [...out];
}

export function renderRun(run: RunRecord, nodes: NodeRecord[], engineAlive: boolean | undefined): string {
  const byParent = new Map<string, NodeRecord[]>();
  for (const n of nodes) {
    const p = n.spec.parent ?? '';
    let list = byParent.get(p);
    if (!list) byParent.set(p, (list = []));
    list.push(n);
  }
  const kinds = new Map(nodes.map((n) => [n.id, n.spec.kind]));
  const status = run.status === 'running' && engineAlive === false ? `${run.status} ${c.yellow('(interrupted: no engine is driving it; `baton resume` it)')}` : run.status;
  const head = [
    `${c.bold('run')}       ${run.id}`,
    `${c.bold('workflow')}  ${run.workflow}  ${c.gray(run.file)}`,
    `${c.bold('status')}    ${stateLabel(run.status)}${status !== run.status ? ` ${status.slice(run.status.length)}` : ''}`,
    `${c.bold('started')}   ${when(run.createdAt)}   ${c.bold('ended')} ${when(run.endedAt)}   ${c.bold('took')} ${duration((run.endedAt ?? Date.now()) - run.createdAt)}`,
    `${c.bold('params')}    ${JSON.stringify(run.params)}`,
    ...(run.codeHash ? [`${c.bold('code')}      ${run.codeHash.slice(0, 16)} ${c.gray(`(snapshot artifact ${run.codeRef?.slice(0, 16) ?? '-'})`)}`] : []),
    ...(run.error ? [`${c.bold('error')}     ${c.red(run.error)}`] : []),
  ];
  const rows: string[][] = [];
  const visit = (n: NodeRecord, depth: number) => {
    const deps = displayDeps(n, kinds);
    rows.push([
      `${'  '.repeat(depth)}${n.id}`,
      stateLabel(n.state, !!n.cachedFrom),
      n.spec.kind === 'task' ? (n.spec.task ?? '') : c.gray(n.spec.kind),
      duration(n.startedAt !== undefined ? (n.endedAt ?? Date.now()) - n.startedAt : undefined),
      n.spec.kind === 'task' ? String(n.attempts) : '',
      c.gray(deps.length ? `← ${deps.slice(0, 3).join(', ')}${deps.length > 3 ? ` +${deps.length - 3}` : ''}` : ''),
    ]);
    if (n.state === 'failed' && n.error) rows.push(['', '', '', '', '', c.red((n.error.split('\n')[0] ?? '').slice(0, 160))]);
    const kids = byParent.get(n.id) ?? [];
    if (kids.length > MAX_CHILDREN) {
      const counts = new Map<string, number>();
      for (const k of kids) counts.set(k.cachedFrom ? 'cached' : k.state, (counts.get(k.cachedFrom ? 'cached' : k.state) ?? 0) + 1);
      rows.push([`${'  '.repeat(depth + 1)}${c.gray(`${kids.length} items: ${[...counts].map(([s, k]) => `${k} ${s}`).join(', ')}`)}`, '', '', '', '', '']);
      for (const k of kids.filter((k) => k.state === 'failed').slice(0, MAX_CHILDREN)) visit(k, depth + 1);
    } else {
      for (const k of kids) visit(k, depth + 1);
    }
  };
  for (const n of byParent.get('') ?? []) visit(n, 0);
  return `${head.join('\n')}\n\n${table(rows, ['node', 'state', 'task', 'took', 'attempts', 'inputs'])}`;
}
