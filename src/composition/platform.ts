/**
 * Platform: configuration → adapters → one object with the operations the CLI, the client and tests use: start a
 * run of a workflow, drive it, resume it, cancel it, replay a task. Nothing above this layer picks adapters.
 */
import { randomBytes } from 'node:crypto';
import { BatonError, messageOf } from '../errors.ts';
import type { ArtifactStore } from '../ports/artifacts.ts';
import { systemClock, systemTimers, type Clock, type Host, type Timers } from '../ports/clock.ts';
import { systemHost } from './host.ts';
import type { AttemptResult, Executor } from '../ports/executor.ts';
import { lookupTask } from '../sdk/registry.ts';
import type { MetadataStore, NodeRecord, RunRecord, StoredValue } from '../ports/metadata.ts';
import { DatasetService } from '../data/datasets/service.ts';
import { ModelRegistry } from '../registry/service.ts';
import { Tracking, type TrackingOptions } from '../tracking/client.ts';
import type { RunnerEvent, RunOutcome } from '../engine/runner.ts';
import type { OfflineEngine } from '../ports/offline.ts';
import type { OnlineStore } from '../ports/online.ts';
import { lazyOfflineEngine } from '../stores/offline/duckdb/lazy.ts';
import type { BuiltGraph } from '../sdk/build.ts';
import type { KeyParts } from '../engine/cache-key.ts';
import type { CodeHash } from '../codehash/index.ts';
import type { Workflow } from '../sdk/workflow.ts';
import type { ExecutorName } from '../sdk/task.ts';
import { openArtifactStore, openMetadataStore } from './adapters.ts';
import { resolveConfig, type PlatformConfig, type ResolvedConfig } from './config.ts';
import { pathFingerprints, resolveParamRefs } from './run-inputs.ts';

export interface RunOptions {
  /** The workflow file (recorded so `resume` can load it again). @default the workflow's own location */
  file?: string;
  onEvent?: (e: RunnerEvent) => void;
  /** Executor for tasks that do not choose one; overrides the platform's. */
  executor?: ExecutorName;
  /** Stops the run (as `baton cancel` would) when aborted. */
  signal?: AbortSignal;
  /** Capacity for driving this run; by default what the run was started with (CPUs, GPUs), else the platform's. */
  capacity?: Partial<{ cpu: number; gpu: number }>;
  /** The tracking experiment the run (and its task attempts) belong to. @default the workflow's name */
  experiment?: string;
}

function newRunId(now: number): string {
  const d = new Date(now).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${d.slice(0, 8)}-${d.slice(8, 14)}-${randomBytes(3).toString('hex')}`;
}

export class Platform {
  readonly engineId: string;
  private readonly executors = new Map<string, Executor>();

  constructor(
    readonly config: ResolvedConfig,
    readonly store: MetadataStore,
    readonly artifacts: ArtifactStore,
    readonly clock: Clock = systemClock,
    readonly host: Host = systemHost,
    readonly timers: Timers = systemTimers,
  ) {
    this.engineId = `${host.hostname}:${host.pid}:${randomBytes(4).toString('hex')}`;
  }

  private readonly offlineEngine = lazyOfflineEngine();
  /** The offline engine (DuckDB: Parquet/CSV scans, profiles, point-in-time joins), opened on first use, closed with the platform. */
  readonly offline = (): Promise<OfflineEngine> => this.offlineEngine.get();

  private onlineStore: Promise<OnlineStore> | undefined;
  /** The online feature store of the configuration (SQLite file or Redis), opened on first use, closed with the platform. */
  online(): Promise<OnlineStore> {
    if (!this.onlineStore) {
      const p = import('./adapters.ts').then(({ openOnlineStore }) => openOnlineStore(this.config.online));
      p.catch(() => (this.onlineStore = undefined)); // a later call may try again
      this.onlineStore = p;
    }
    return this.onlineStore;
  }

  private datasetService: DatasetService | undefined;

  /** Named, versioned datasets: register files, list, show, diff (DuckDB is loaded on first profiling). */
  get datasets(): DatasetService {
    this.datasetService ??= new DatasetService({ store: this.store, artifacts: this.artifacts, offline: this.offline, clock: this.clock });
    return this.datasetService;
  }

  private modelRegistry: ModelRegistry | undefined;

  /** The model registry: versions, aliases with their history, gated promotions, approvals, rollback. */
  get models(): ModelRegistry {
    this.modelRegistry ??= new ModelRegistry({ store: this.store, artifacts: this.artifacts, clock: this.clock });
    return this.modelRegistry;
  }

  /** Tracking (experiments, runs, params, metrics) from scripts, on this platform's stores; close() flushes it. */
  tracking(options: TrackingOptions = {}): Tracking {
    return new Tracking(this.store, this.artifacts, options);
  }

  /** Lazily creates executors; worker pools start only when first used. */
  async executor(name: string): Promise<Executor> {
    let ex = this.executors.get(name);
    if (ex) return ex;
    const root = this.config.artifacts.slice('file:'.length);
    if (name === 'inline') {
      const { InlineExecutor } = await import('../executors/inline/executor.ts');
      ex = new InlineExecutor(this.artifacts, this.offline);
    }
    else if (name === 'threads') {
      const { ThreadExecutor } = await import('../executors/threads/executor.ts');
      ex = new ThreadExecutor({ artifactsRoot: root, workers: this.config.workers });
    } else if (name === 'processes') {
      const { ProcessExecutor } = await import('../executors/processes/executor.ts');
      ex = new ProcessExecutor({ artifactsRoot: root, workers: this.config.workers });
    } else {
      throw new BatonError('usage', `Unknown executor "${name}". Use inline, threads or processes.`);
    }
    this.executors.set(name, ex!);
    return ex!;
  }

  /** The executors a run needs: its default plus any a task or call names. Dynamic nodes may add inline. */
  private async executorsFor(defaultName: string, graph: BuiltGraph): Promise<Record<string, Executor>> {
    const names = new Set([defaultName, 'inline']);
    for (const def of graph.tasks.values()) if (def.options.executor) names.add(def.options.executor);
    for (const n of graph.nodes) if (n.options?.executor) names.add(n.options.executor);
    const out: Record<string, Executor> = {};
    for (const name of names) out[name] = await this.executor(name);
    return out;
  }

  /** Builds the graph, validates it and writes the run with its static nodes in one transaction. */
  async startRun(workflow: Workflow, params: unknown, options: RunOptions = {}): Promise<{ runId: string; graph: BuiltGraph }> {
    const { params: parsed, graph } = workflow.build(await resolveParamRefs(params, this));
    const pools = { ...workflow.pools, ...this.config.pools };
    // The engine's modules load on first use, so that reading commands (`baton runs`) start fast.
    const { validateGraph } = await import('../engine/validate.ts');
    validateGraph(workflow.name, graph.nodes, graph.tasks, this.capacity(), pools);
    const now = this.clock.now();
    const runId = newRunId(now);
    const file = options.file ?? workflow.location?.file ?? '';
    const snap = file ? await (await import('./snapshot.ts')).snapshotCode(file, this.artifacts) : undefined;
    const nodes: NodeRecord[] = graph.nodes.map((spec, seq) => ({ runId, id: spec.id, seq, spec, state: 'pending', attempts: 0, retryBase: 0 }));
    await this.store.apply([
      {
        type: 'insertRun',
        run: {
          id: runId,
          workflow: workflow.name,
          status: 'running',
          file,
          params: parsed,
          options: { executor: options.executor ?? this.config.executor, pools, cpus: this.config.cpus, gpus: this.config.gpus, experiment: options.experiment ?? workflow.name },
          outputBinding: graph.output,
          cancelRequested: false,
          createdAt: now,
          ...(snap ? { codeHash: snap.codeHash, codeRef: snap.codeRef } : {}),
        },
      },
      { type: 'insertNodes', nodes },
      // Each workflow run is a tracking run (same id); its task attempts are nested runs created at their finish.
      { type: 'startTrackingRun', run: { id: runId, experiment: options.experiment ?? workflow.name, name: workflow.name, status: 'running', startTime: now, workflowRunId: runId } },
      { type: 'events', events: [{ runId, at: now, type: 'run_started', data: { workflow: workflow.name, params: parsed, engine: this.engineId } }] },
    ]);
    return { runId, graph };
  }

  capacity(): { cpu: number; memoryMB: number; gpu: number } {
    return { cpu: this.config.cpus, memoryMB: this.config.memoryMB, gpu: this.config.gpus };
  }

  /** Drives a started run to its end in this process. */
  async drive(runId: string, workflow: Workflow, graph: BuiltGraph, options: RunOptions = {}): Promise<RunOutcome> {
    const run = await this.store.getRun(runId);
    const runOptions = (run?.options ?? {}) as { executor?: string; pools?: Record<string, number>; cpus?: number; gpus?: number };
    const capacity = {
      cpu: options.capacity?.cpu ?? runOptions.cpus ?? this.config.cpus,
      memoryMB: this.config.memoryMB,
      gpu: options.capacity?.gpu ?? runOptions.gpus ?? this.config.gpus,
    };
    const defaultExecutor = options.executor ?? runOptions.executor ?? this.config.executor;
    let executors: Record<string, Executor>;
    try {
      executors = await this.executorsFor(defaultExecutor, graph);
    } catch (err) {
      // Never leave a run "running" that no engine will drive.
      const now = this.clock.now();
      await this.store.apply([
        { type: 'updateRun', runId, status: 'failed', error: messageOf(err), endedAt: now },
        { type: 'endTrackingRun', runId, status: 'failed', endTime: now },
        { type: 'events', events: [{ runId, at: now, type: 'run_finished', data: { status: 'failed', error: messageOf(err) } }] },
      ]);
      throw err;
    }
    const { RunDriver } = await import('../engine/runner.ts');
    const driver = new RunDriver(runId, {
      store: this.store,
      artifacts: this.artifacts,
      executors,
      defaultExecutor,
      clock: this.clock,
      owner: this.engineId,
      host: this.host,
      timers: this.timers,
      env: process.env,
      capacity,
      pools: { ...workflow.pools, ...runOptions.pools, ...this.config.pools },
      tasks: graph.tasks,
      dynamicBuilders: graph.dynamicBuilders,
      workflowName: workflow.name,
      experiment: (runOptions as { experiment?: string }).experiment ?? workflow.name,
      leaseMs: this.config.leaseMs,
      fingerprintPaths: pathFingerprints(this.config.artifacts),
      ...(this.config.claimAhead !== undefined ? { claimAhead: this.config.claimAhead } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
    const onAbort = () => driver.cancel();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await driver.drive();
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Starts and drives a run. */
  async run(workflow: Workflow, params: unknown = {}, options: RunOptions = {}): Promise<RunOutcome> {
    const { runId, graph } = await this.startRun(workflow, params, options);
    return this.drive(runId, workflow, graph, options);
  }

  /** Resolves a run id or unique prefix. */
  async resolveRunId(idOrPrefix: string): Promise<string> {
    const ids = await this.store.findRunIds(idOrPrefix);
    if (ids.length === 0) throw new BatonError('not_found', `No run "${idOrPrefix}" in ${this.store.url}. List runs with \`baton runs\`.`);
    if (ids.length > 1) throw new BatonError('usage', `Run id "${idOrPrefix}" is ambiguous: ${ids.join(', ')}. Give more characters.`);
    return ids[0]!;
  }

  /**
   * Re-runs a failed, cancelled or interrupted run: every succeeded node is kept; failed, cancelled and
   * upstream-failed nodes go back to pending with a fresh retry budget; attempts of a dead engine are taken over.
   */
  async resume(idOrPrefix: string, options: RunOptions & { workflow?: Workflow } = {}): Promise<RunOutcome> {
    const runId = await this.resolveRunId(idOrPrefix);
    const run = (await this.store.getRun(runId))!;
    if (run.status === 'succeeded') throw new BatonError('conflict', `Run ${runId} already succeeded; there is nothing to resume. Start a new run with \`baton run\`.`);
    if ((await this.driver(run)) === 'alive') {
      throw new BatonError('conflict', `Run ${runId} is still being driven by engine ${run.owner}. Wait for it, or stop it with \`baton cancel ${runId}\`.`);
    }
    const workflow = options.workflow ?? (await (await import('./load-workflow.ts')).loadWorkflowFile(run.file, run.workflow)).workflow;
    const { graph } = workflow.build(run.params);
    const nodes = await this.store.getNodes(runId);
    const stored = new Set(nodes.map((n) => n.id));
    const missing = graph.nodes.filter((n) => !stored.has(n.id) && !n.parent).map((n) => n.id);
    const gone = nodes.filter((n) => !n.spec.parent && !graph.nodes.some((g) => g.id === n.id)).map((n) => n.id);
    if (missing.length || gone.length) {
      throw new BatonError('conflict', `The workflow in ${run.file} no longer has the shape run ${runId} started with (${[...gone.map((g) => `"${g}" removed`), ...missing.map((m) => `"${m}" added`)].join(', ')}). Resume needs the same graph; start a new run instead — cached tasks will be reused.`);
    }
    const now = this.clock.now();
    const muts = nodes
      .filter((n) => n.state === 'failed' || n.state === 'cancelled' || n.state === 'upstream_failed' || (n.state === 'running' && n.spec.kind !== 'task' && !n.expansion))
      .map((n) => ({ type: 'setState' as const, runId, nodeId: n.id, from: [n.state], state: 'pending' as const, at: now, error: null, retryBase: n.attempts }));
    await this.store.apply([
      ...muts,
      { type: 'updateRun', runId, status: 'running', error: null, endedAt: null, cancelRequested: false },
      { type: 'startTrackingRun', run: { id: runId, experiment: (run.options as { experiment?: string }).experiment ?? run.workflow, name: run.workflow, status: 'running', startTime: run.createdAt, workflowRunId: runId } },
      { type: 'endTrackingRun', runId, status: 'running', endTime: null },
      { type: 'events', events: [{ runId, at: now, type: 'run_resumed', data: { reset: muts.length, engine: this.engineId } }] },
    ]);
    return this.drive(runId, workflow, graph, options);
  }

  /**
   * Re-executes one task of a past run in this process (inline executor) with exactly the input it got then, for
   * debugging: nothing is recorded. `recorded` is the output the run stored, to compare with `result`.
   */
  async replay(
    idOrPrefix: string,
    nodeId: string,
    options: { log?: (stream: 'stdout' | 'stderr', text: string) => void; onStart?: (what: { runId: string; nodeId: string; task: string; inputHash: string }) => void } = {},
  ): Promise<{ runId: string; nodeId: string; task: string; result: AttemptResult; recorded?: StoredValue }> {
    const runId = await this.resolveRunId(idOrPrefix);
    const run = (await this.store.getRun(runId))!;
    const node = await this.store.getNode(runId, nodeId);
    if (!node) throw new BatonError('not_found', `Run ${runId} has no task "${nodeId}". See its nodes with \`baton show ${runId}\`.`);
    if (node.spec.kind !== 'task') throw new BatonError('usage', `"${nodeId}" is a ${node.spec.kind} node, not a task; replay one of its tasks instead.`);
    if (!node.input) throw new BatonError('conflict', `Task "${nodeId}" of run ${runId} never got its input (it did not start), so there is nothing to replay.`);
    const task = node.spec.task!;
    const [{ loadWorkflowFile }, { InlineExecutor }] = await Promise.all([import('./load-workflow.ts'), import('../executors/inline/executor.ts')]);
    await loadWorkflowFile(run.file, run.workflow);
    if (!lookupTask(task)) throw new BatonError('workflow_load', `Task "${task}" is no longer defined in ${run.file}.`);
    const executor = new InlineExecutor(this.artifacts, this.offline);
    options.onStart?.({ runId, nodeId, task, inputHash: node.input.hash });
    const result = await new Promise<AttemptResult>((resolve) => {
      executor.submit(
        { runId, nodeId, task, attempt: node.attempts + 1, modules: [], input: node.input!, resources: { cpu: 1, memoryMB: 0, gpu: 0 }, env: {} },
        { log: options.log ?? (() => undefined), done: resolve },
      );
    });
    return { runId, nodeId, task, result, ...(node.output ? { recorded: node.output } : {}) };
  }

  /**
   * Why a task of a run missed the cache — which part of its key changed since the closest cached result of the
   * same task (code, input, environment, paths) — or where a hit came from, with what the key did not check.
   */
  async explainCache(idOrPrefix: string, nodeId: string): Promise<
    | { kind: 'hit'; from: string; key?: string; caveats: string }
    | { kind: 'uncached'; reason: 'disabled' | 'not_evaluated' }
    | { kind: 'miss'; task: string; key: string; closest?: { runId: string; nodeId: string; createdAt: number; changes: string[] } }
  > {
    const runId = await this.resolveRunId(idOrPrefix);
    const node = await this.store.getNode(runId, nodeId);
    if (!node) throw new BatonError('not_found', `Run ${runId} has no task "${nodeId}". See its nodes with \`baton show ${runId}\`.`);
    const { explainMiss, hitCaveats } = await import('../engine/cache-key.ts');
    if (node.cachedFrom) return { kind: 'hit', from: node.cachedFrom, ...(node.cacheKey ? { key: node.cacheKey } : {}), caveats: hitCaveats(node.cacheParts as KeyParts | undefined) };
    if (!node.cacheKey) return { kind: 'uncached', reason: node.input ? 'disabled' : 'not_evaluated' };
    const task = node.spec.task!;
    const entries = (await this.store.recentCacheEntries(task, 50)).filter((e) => !(e.runId === runId && e.nodeId === nodeId) && e.key !== node.cacheKey);
    if (entries.length === 0) return { kind: 'miss', task, key: node.cacheKey };
    const parts = node.cacheParts as KeyParts;
    const hashes = [parts, ...entries.map((e) => e.parts as KeyParts)].flatMap((k) => ('hash' in k.code ? [k.code.hash] : []));
    const code = await this.store.getCode([...new Set(hashes)]);
    const lookup = (h: string) => code.get(h) as CodeHash['parts'] | undefined;
    // The closest entry is the one with the fewest changes (the newest among equals).
    const ranked = entries.map((e) => ({ e, why: explainMiss(e.parts as KeyParts, parts, lookup) })).sort((a, b) => a.why.length - b.why.length || b.e.createdAt - a.e.createdAt);
    const best = ranked[0]!;
    return { kind: 'miss', task, key: node.cacheKey, closest: { runId: best.e.runId, nodeId: best.e.nodeId, createdAt: best.e.createdAt, changes: best.why } };
  }

  /**
   * Whether an engine drives a running run: `alive` when its engine's process runs (on this host) or its heartbeat
   * is within a lease (elsewhere); `dead` when it has none or it stopped (then `baton resume` takes over); `none`
   * when the run is not running, or when it is this very process.
   */
  async driver(run: RunRecord): Promise<'alive' | 'dead' | 'none'> {
    if (run.status !== 'running') return 'none';
    if (!run.owner) return 'dead';
    const [e] = await this.store.getEngines([run.owner]);
    if (!e) return 'dead';
    if (e.host === this.host.hostname) return e.pid === this.host.pid ? 'none' : this.host.isProcessAlive(e.pid) ? 'alive' : 'dead';
    return e.heartbeatAt + this.config.leaseMs > this.clock.now() ? 'alive' : 'dead';
  }

  /** Asks the engine driving a run to cancel it (works across processes); marks an undriven run cancelled. */
  async cancel(idOrPrefix: string): Promise<{ runId: string; status: string }> {
    const runId = await this.resolveRunId(idOrPrefix);
    const run = (await this.store.getRun(runId))!;
    if (run.status !== 'running') return { runId, status: run.status };
    const now = this.clock.now();
    if ((await this.driver(run)) === 'alive') {
      await this.store.apply([{ type: 'updateRun', runId, cancelRequested: true }]);
      return { runId, status: 'cancelling' };
    }
    const nodes = await this.store.getNodes(runId);
    await this.store.apply([
      ...nodes
        .filter((n) => n.state === 'pending' || n.state === 'running' || n.state === 'retrying')
        .map((n) => ({ type: 'setState' as const, runId, nodeId: n.id, from: [n.state], state: 'cancelled' as const, at: now, error: 'cancelled' })),
      { type: 'updateRun', runId, status: 'cancelled', endedAt: now, error: 'cancelled', cancelRequested: true },
      { type: 'endTrackingRun', runId, status: 'cancelled', endTime: now },
      { type: 'events', events: [{ runId, at: now, type: 'run_finished', data: { status: 'cancelled' } }] },
    ]);
    return { runId, status: 'cancelled' };
  }

  async close(): Promise<void> {
    for (const ex of this.executors.values()) await ex.close();
    this.executors.clear();
    await this.offlineEngine.close();
    const online = this.onlineStore;
    this.onlineStore = undefined;
    if (online) await (await online.catch(() => undefined))?.close();
    await this.store.close();
  }
}

export async function openPlatform(config: PlatformConfig = {}, clock?: Clock): Promise<Platform> {
  const resolved = resolveConfig(config);
  const store = await openMetadataStore(resolved.store);
  return new Platform(resolved, store, openArtifactStore(resolved.artifacts), clock);
}
