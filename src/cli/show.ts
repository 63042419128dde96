/**
 * `baton show RUN`: the run's graph with each node's state, duration, attempts and cache hits. Map items are
 * nested under their map; a large map is summarised (counts per state) and lists only its failed items. Under the
 * graph, the model versions the run's tasks registered, and those its cache hits stand for (a cached task
 * registers nothing: the version of the run that computed it stands).
 */
import type { MetadataStore, NodeRecord, RunRecord } from '../ports/metadata.ts';
import type { ModelVersionRecord } from '../ports/registry.ts';
import type { Binding } from '../sdk/refs.ts';
import { specDeps } from '../spec/graph.ts';
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

/** A model version listed by `baton show`, with its aliases now. */
export interface RunModel extends ModelVersionRecord {
  /** The node of this run that registered it, or whose cache hit reused the task that did. */
  node: string;
  aliases: string[];
  /** For a cache hit: `RUN/NODE` of the task that registered the version (this run registered nothing there). */
  cachedFrom?: string;
}

/**
 * The versions a run's tasks registered, then those registered by the tasks its cache hits reused (one query per
 * run reused from), each with its aliases; in registration order.
 */
export async function runModels(store: Pick<MetadataStore, 'getModelVersionsOfRun' | 'getModelAliases'>, runId: string, nodes: readonly NodeRecord[]): Promise<RunModel[]> {
  const found: { v: ModelVersionRecord; node: string; cachedFrom?: string }[] = (await store.getModelVersionsOfRun(runId)).map((v) => ({ v, node: v.lineage?.nodeId ?? '?' }));
  // Cache hits by the run they reused: `cachedFrom` is RUN/NODE, and node ids may contain "/".
  const reused = new Map<string, Map<string, string>>();
  for (const n of nodes) {
    if (!n.cachedFrom || n.spec.kind !== 'task') continue;
    const slash = n.cachedFrom.indexOf('/');
    const [from, fromNode] = [n.cachedFrom.slice(0, slash), n.cachedFrom.slice(slash + 1)];
    let m = reused.get(from);
    if (!m) reused.set(from, (m = new Map()));
    m.set(fromNode, n.id);
  }
  for (const [from, byNode] of reused) {
    for (const v of await store.getModelVersionsOfRun(from)) {
      const node = byNode.get(v.lineage?.nodeId ?? '');
      if (node !== undefined) found.push({ v, node, cachedFrom: `${from}/${v.lineage!.nodeId!}` });
    }
  }
  const aliases = new Map<string, Map<number, string[]>>();
  for (const name of new Set(found.map((f) => f.v.name))) {
    const byVersion = new Map<number, string[]>();
    for (const a of await store.getModelAliases(name)) byVersion.set(a.version, [...(byVersion.get(a.version) ?? []), a.alias]);
    aliases.set(name, byVersion);
  }
  return found.map(({ v, node, cachedFrom }) => ({ ...v, node, aliases: aliases.get(v.name)?.get(v.version) ?? [], ...(cachedFrom ? { cachedFrom } : {}) }));
}

/** The models table under the graph: `name@version`, the node, its aliases, and for a cache hit who registered it. */
export function renderModels(models: readonly RunModel[]): string {
  const rows = models.map((m) => [
    `${m.name}@${m.version}`,
    m.node,
    m.aliases.length ? c.cyan(m.aliases.join(', ')) : c.gray('-'),
    m.cachedFrom ? c.gray(`run ${m.cachedFrom.slice(0, m.cachedFrom.indexOf('/'))} (cache hit)`) : `attempt ${m.lineage?.attempt ?? '?'}`,
  ]);
  return `${c.bold('models')}\n${table(rows, ['model', 'node', 'aliases', 'registered by'])}`;
}

export function renderRun(run: RunRecord, nodes: NodeRecord[], engineAlive: boolean | undefined, models: readonly RunModel[] = []): string {
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
  const graph = `${head.join('\n')}\n\n${table(rows, ['node', 'state', 'task', 'took', 'attempts', 'inputs'])}`;
  return models.length ? `${graph}\n\n${renderModels(models)}` : graph;
}
