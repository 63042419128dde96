/**
 * ModelRegistry: named models with numbered versions, aliases (`champion`, `challenger`, any name) with the full
 * history of their moves, promotions through gates with optional approval, and rollback. The rules live here; the
 * MetadataStore keeps the rows (src/stores/metadata/sql/registry.ts) and guards every alias move with a
 * compare-and-set on the version the decision was made against, so a gate never approves against a stale champion.
 *
 * Errors: an unknown model, version, alias or promotion is `not_found` and lists what exists; a refused gate, a
 * promotion decided twice or an alias moved meanwhile is `conflict`; bad names are `usage`.
 */
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { BatonError } from '../errors.ts';
import type { ArtifactStore } from '../ports/artifacts.ts';
import type { Clock } from '../ports/clock.ts';
import type { AttemptState, MetadataStore, RunStatus } from '../ports/metadata.ts';
import type { AliasMove, AliasMoveRecord, ModelAliasRecord, ModelInput, ModelLineage, ModelSummary, ModelVersionRecord, PromotionRecord, PromotionStatus } from '../ports/registry.ts';
import type { DirHandle, FileHandle } from '../spec/handles.ts';
import { checkGate, evaluateGate, formatGateReport, type Gate, type GateReport } from './gate.ts';
import { checkModelMetrics, checkModelName, checkModelTags, type ModelRegistration } from './registration.ts';
import { toSignature, type SignatureSource } from './signature.ts';

/** Also exported from here, where it always was. */
export { checkModelName };

export interface ModelRegistryDeps {
  store: MetadataStore;
  artifacts: ArtifactStore;
  clock: Clock;
}

const ALIAS = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;

/** `$USER@host`, the default actor of alias moves and decisions. */
export function defaultActor(): string {
  let user = process.env.USER || process.env.USERNAME;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `${user}@${hostname()}`;
}

export function checkAlias(alias: string): string {
  if (typeof alias !== 'string' || !ALIAS.test(alias) || alias === 'latest') {
    throw new BatonError('usage', `Alias ${JSON.stringify(alias)} is not valid. Use 1–64 letters, digits, ".", "_" or "-", starting with a letter (e.g. "champion" or "challenger"); "latest" is reserved.`);
  }
  return alias;
}

function checkVersion(version: number | string): number {
  const n = typeof version === 'number' ? version : /^[1-9][0-9]{0,8}$/.test(version) ? Number(version) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new BatonError('usage', `Model version ${JSON.stringify(version)} is not valid: versions are numbers 1, 2, …`);
  return n;
}

export interface RegisterModelOptions {
  /** The model file or directory (a handle from `ctx.artifacts.putFile/putDir`), or its artifact sha256. */
  artifact: FileHandle | DirHandle | string;
  /** How to load it, e.g. 'js' or 'onnx'. */
  flavor: string;
  /** JSON Schemas or zod types of the model's input and output, or a task whose types describe them (signatureOfTask). */
  signature?: SignatureSource;
  metrics?: Record<string, number>;
  tags?: Record<string, string>;
  /** The run, task attempt and code that produced the model. */
  lineage?: ModelLineage;
  description?: string;
  /** Makes a retried registration idempotent (default: derived from a full lineage, else random). */
  registrationId?: string;
}

export interface ActorOptions {
  /** @default `$USER@host` */
  actor?: string;
  reason?: string;
}

export interface PromoteOptions extends ActorOptions {
  /** @default 'champion' */
  alias?: string;
  gate?: Gate;
  /** Record the promotion as pending; `approve(id)` moves the alias. */
  requireApproval?: boolean;
}

export interface PromotionOutcome {
  status: 'promoted' | 'pending' | 'unchanged';
  name: string;
  alias: string;
  version: number;
  /** The version the alias held before (absent: it did not exist). */
  from?: number;
  promotion?: PromotionRecord;
  report?: GateReport;
}

export interface AliasMoveOutcome {
  name: string;
  alias: string;
  from?: number;
  to: number;
  moved: boolean;
}

export interface ModelDetails {
  version: ModelVersionRecord;
  summary: ModelSummary;
  /** Aliases of the model (all of them, not only this version's). */
  aliases: ModelAliasRecord[];
  /** The run, task and attempt that registered the version (from a task: `ctx.models.register`). */
  producer?: ModelProducer;
  /** Artifacts the producing attempt read (from lineage): its input datasets (named) and files. */
  inputs: ModelInput[];
  history: AliasMoveRecord[];
  promotions: PromotionRecord[];
}

/** Where a version registered from a task came from, as the store has it now. */
export interface ModelProducer {
  runId: string;
  nodeId: string;
  attempt: number;
  /** Absent when the run is no longer in the store. */
  workflow?: string;
  task?: string;
  runStatus?: RunStatus;
  attemptState?: AttemptState;
  startedAt?: number;
  endedAt?: number;
}

/** A promotion refused by its gate; `report` says which metrics failed, candidate vs champion. */
export class GateRefused extends BatonError {
  override readonly name = 'GateRefused';
  constructor(readonly report: GateReport, readonly promotionId: string) {
    super('conflict', `${formatGateReport(report)}\nThe promotion was refused (recorded as ${promotionId}). Improve the candidate, or change the gate if it is wrong.`);
  }
}

export class ModelRegistry {
  constructor(private readonly deps: ModelRegistryDeps) {}

  private get store(): MetadataStore {
    return this.deps.store;
  }

  /** Registers a model artifact as the next version of `name`. */
  async register(name: string, options: RegisterModelOptions): Promise<ModelVersionRecord> {
    checkModelName(name);
    const artifact = typeof options.artifact === 'string' ? options.artifact : options.artifact?.sha256;
    if (typeof artifact !== 'string' || !/^[0-9a-f]{64}$/.test(artifact)) {
      throw new BatonError('usage', `Model "${name}": artifact must be a file or directory handle or a sha256, not ${JSON.stringify(options.artifact)}. Store the model first, e.g. ctx.artifacts.putFile(path).`);
    }
    if (!(await this.deps.artifacts.has(artifact))) {
      throw new BatonError('not_found', `Model "${name}": artifact ${artifact.slice(0, 12)} is not in the artifact store. Store the model first (ctx.artifacts.putFile / putDir, or platform.artifacts.putFile) and register its handle.`);
    }
    if (typeof options.flavor !== 'string' || !options.flavor) throw new BatonError('usage', `Model "${name}": give its flavor (how to load it), e.g. 'js' or 'onnx'.`);
    const metrics = checkModelMetrics(name, options.metrics);
    const tags = checkModelTags(name, options.tags);
    const l = options.lineage;
    const registrationId = options.registrationId ?? (l?.runId && l.nodeId && l.attempt ? `${l.runId}/${l.nodeId}/${l.attempt}/${name}/${artifact}` : randomUUID());
    await this.store.apply([{
      type: 'registerModelVersion',
      version: {
        name, registrationId, artifact, flavor: options.flavor, metrics, tags, createdAt: this.deps.clock.now(),
        ...(options.signature ? { signature: toSignature(options.signature) } : {}),
        ...(l && Object.keys(l).length ? { lineage: l } : {}),
        ...(options.description ? { description: options.description } : {}),
      },
    }]);
    const v = (await this.store.getModelVersions(name)).find((x) => x.registrationId === registrationId);
    if (!v) throw new BatonError('internal', `Model "${name}" was registered but its version cannot be read back from ${this.store.url}.`);
    return v;
  }

  list(): Promise<ModelSummary[]> {
    return this.store.listModels();
  }

  /** Every version of a model, oldest first; not_found (listing the models) for an unknown name. */
  async versions(name: string): Promise<ModelVersionRecord[]> {
    const versions = await this.store.getModelVersions(checkModelName(name));
    if (versions.length === 0) throw await this.unknownModel(name);
    return versions;
  }

  /** One version: `NAME` (latest), `NAME@3`, `NAME@latest` or `NAME@ALIAS`. */
  async resolve(ref: string): Promise<ModelVersionRecord> {
    const at = ref.lastIndexOf('@');
    const name = checkModelName(at < 0 ? ref : ref.slice(0, at));
    const what = at < 0 ? 'latest' : ref.slice(at + 1);
    const versions = await this.versions(name);
    if (what === 'latest') return versions.at(-1)!;
    if (/^[0-9]+$/.test(what)) return this.version(name, checkVersion(what), versions);
    const alias = (await this.store.getModelAliases(name)).find((a) => a.alias === checkAlias(what));
    if (!alias) throw await this.unknownAlias(name, what);
    return this.version(name, alias.version, versions);
  }

  async show(ref: string): Promise<ModelDetails> {
    const version = await this.resolve(ref);
    const [summary, aliases, history, promotions] = await Promise.all([
      this.store.listModels().then((all) => all.find((m) => m.name === version.name)!),
      this.store.getModelAliases(version.name),
      this.store.getAliasHistory(version.name),
      this.store.listPromotions({ name: version.name }),
    ]);
    const [inputs, producer] = await Promise.all([this.store.getModelInputs(version.name, version.version), this.producer(version)]);
    return { version, summary, aliases, ...(producer ? { producer } : {}), inputs, history, promotions };
  }

  /**
   * The version a registration made: `ctx.models.register` returns the registration before its version exists (it
   * is numbered when the attempt commits). not_found when it never committed (the attempt failed or is running).
   */
  async registered(registration: Pick<ModelRegistration, 'registrationId'> | string): Promise<ModelVersionRecord> {
    const id = typeof registration === 'string' ? registration : registration?.registrationId;
    if (typeof id !== 'string' || !id) throw new BatonError('usage', `platform.models.registered takes the registration ctx.models.register returned (or its registrationId), not ${JSON.stringify(registration)}.`);
    const v = await this.store.getModelVersionByRegistration(id);
    if (v) return v;
    throw new BatonError('not_found', `Registration "${id}" has no model version in ${this.store.url}: the attempt that made it did not succeed (a failed attempt registers nothing; its retry registers under its own attempt number) or has not committed yet. See the run's models with platform.models.ofRun(runId).`);
  }

  /** Versions registered by a run's task attempts (of one node, when given), in registration order. */
  ofRun(runId: string, nodeId?: string): Promise<ModelVersionRecord[]> {
    return this.store.getModelVersionsOfRun(runId, nodeId);
  }

  private async producer(v: ModelVersionRecord): Promise<ModelProducer | undefined> {
    const l = v.lineage;
    if (!l?.runId || !l.nodeId || l.attempt === undefined) return undefined;
    const [run, node, attempts] = await Promise.all([this.store.getRun(l.runId), this.store.getNode(l.runId, l.nodeId), this.store.getAttempts(l.runId, l.nodeId)]);
    const a = attempts.find((x) => x.attempt === l.attempt);
    return {
      runId: l.runId, nodeId: l.nodeId, attempt: l.attempt,
      ...(run ? { workflow: run.workflow, runStatus: run.status } : {}),
      ...(node?.spec.task ? { task: node.spec.task } : {}),
      ...(a ? { attemptState: a.state, startedAt: a.startedAt, ...(a.endedAt !== undefined ? { endedAt: a.endedAt } : {}) } : {}),
    };
  }

  /** Alias moves of a model (of one alias, or all), oldest first. */
  async history(name: string, alias?: string): Promise<AliasMoveRecord[]> {
    await this.versions(name);
    return this.store.getAliasHistory(name, alias === undefined ? undefined : checkAlias(alias));
  }

  promotions(filter: { name?: string; status?: PromotionStatus } = {}): Promise<PromotionRecord[]> {
    return this.store.listPromotions(filter);
  }

  /** Points `alias` at `version` (no gate), recording who, when and why. */
  async setAlias(name: string, alias: string, version: number | string, options: ActorOptions = {}): Promise<AliasMoveOutcome> {
    checkAlias(alias);
    const v = await this.version(name, checkVersion(version));
    const current = await this.current(name, alias);
    if (current === v.version) return { name, alias, from: current, to: v.version, moved: false };
    await this.move({ name, alias, version: v.version, kind: 'set', actor: options.actor ?? defaultActor(), reason: options.reason ?? '', at: this.deps.clock.now(), ifCurrent: current ?? null });
    return { name, alias, ...(current !== undefined ? { from: current } : {}), to: v.version, moved: true };
  }

  /**
   * Promotes `version` to `alias` (default champion): runs the gate against the alias's current holder (a worse
   * candidate is refused with GateRefused, and the refusal recorded), then moves the alias, or with
   * `requireApproval` records a pending promotion for `approve`/`reject`.
   */
  async promote(name: string, version: number | string, options: PromoteOptions = {}): Promise<PromotionOutcome> {
    const alias = checkAlias(options.alias ?? 'champion');
    const candidate = await this.version(name, checkVersion(version));
    const gate = options.gate ? checkGate(options.gate) : undefined;
    const actor = options.actor ?? defaultActor();
    const reason = options.reason ?? '';
    const current = await this.current(name, alias);
    const base = { name, alias, version: candidate.version, ...(current !== undefined ? { from: current } : {}) };
    if (current === candidate.version) return { status: 'unchanged', ...base };
    const report = gate ? await this.runGate(gate, candidate, alias, current) : undefined;
    const now = this.deps.clock.now();
    const promotion: PromotionRecord = {
      id: `pr-${randomUUID().slice(0, 8)}`, name, alias, version: candidate.version, status: 'pending', requestedBy: actor, reason, createdAt: now,
      ...(report ? { gateReport: report } : {}),
    };
    if (report && !report.passed) {
      await this.store.apply([{ type: 'requestModelPromotion', promotion: { ...promotion, status: 'rejected', decidedBy: 'gate', decidedAt: now, decisionReason: 'refused by the gate' } }]);
      throw new GateRefused(report, promotion.id);
    }
    if (options.requireApproval) {
      await this.store.apply([{ type: 'requestModelPromotion', promotion }]);
      return { status: 'pending', ...base, promotion, ...(report ? { report } : {}) };
    }
    const move: AliasMove = { name, alias, version: candidate.version, kind: 'promote', actor, reason, at: now, ifCurrent: current ?? null };
    const [, moved] = await this.store.apply([
      { type: 'requestModelPromotion', promotion },
      { type: 'decideModelPromotion', id: promotion.id, status: 'approved', actor, at: now, move },
    ]);
    if (!moved) {
      await this.store.apply([{ type: 'decideModelPromotion', id: promotion.id, status: 'rejected', actor, at: now, reason: 'the alias moved while the promotion was decided' }]);
      throw await this.movedMeanwhile(name, alias, current);
    }
    return { status: 'promoted', ...base, promotion: (await this.store.getPromotion(promotion.id))!, ...(report ? { report } : {}) };
  }

  /**
   * Approves a pending promotion and moves its alias. A gate recorded with the request runs again against the
   * alias's holder now (it may have moved since): a candidate now worse is refused and stays pending.
   */
  async approve(id: string, options: ActorOptions = {}): Promise<PromotionOutcome> {
    const p = await this.pending(id);
    const actor = options.actor ?? defaultActor();
    const candidate = await this.version(p.name, p.version);
    const current = await this.current(p.name, p.alias);
    const recorded = p.gateReport as GateReport | undefined;
    let report: GateReport | undefined;
    if (recorded?.gate) {
      report = await this.runGate(recorded.gate, candidate, p.alias, current);
      if (!report.passed) {
        throw new BatonError('conflict', `${formatGateReport(report)}\nPromotion ${id} no longer passes its gate (${p.alias} is v${current} now); it stays pending. Reject it with \`baton models reject ${id} --reason …\`.`);
      }
    }
    const now = this.deps.clock.now();
    const move: AliasMove = { name: p.name, alias: p.alias, version: p.version, kind: 'promote', actor, reason: options.reason ?? p.reason, at: now, ifCurrent: current ?? null };
    const [ok] = await this.store.apply([{ type: 'decideModelPromotion', id, status: 'approved', actor, at: now, ...(options.reason ? { reason: options.reason } : {}), move }]);
    if (!ok) {
      await this.pending(id);
      throw await this.movedMeanwhile(p.name, p.alias, current);
    }
    return { status: 'promoted', name: p.name, alias: p.alias, version: p.version, ...(current !== undefined ? { from: current } : {}), promotion: (await this.store.getPromotion(id))!, ...(report ? { report } : {}) };
  }

  /** Rejects a pending promotion (the alias does not move). */
  async reject(id: string, options: ActorOptions & { reason: string }): Promise<PromotionRecord> {
    if (!options?.reason) throw new BatonError('usage', `Say why promotion ${id} is rejected (--reason "…"); it is kept in the promotion's record.`);
    await this.pending(id);
    const [ok] = await this.store.apply([{ type: 'decideModelPromotion', id, status: 'rejected', actor: options.actor ?? defaultActor(), at: this.deps.clock.now(), reason: options.reason }]);
    if (!ok) await this.pending(id);
    return (await this.store.getPromotion(id))!;
  }

  /**
   * Moves `alias` back to the version it held before its current one, from its history (rollbacks undo moves in
   * order: rolling back twice after 1 → 2 → 3 lands on 1).
   */
  async rollback(name: string, options: ActorOptions & { alias?: string; reason: string }): Promise<AliasMoveOutcome> {
    const alias = checkAlias(options.alias ?? 'champion');
    if (!options.reason) throw new BatonError('usage', `Say why ${name}@${alias} is rolled back (--reason "…"); it is kept in the alias's history.`);
    const history = await this.history(name, alias);
    if (history.length === 0) throw await this.unknownAlias(name, alias);
    const stack: number[] = [];
    for (const h of history) {
      if (h.kind === 'rollback') stack.pop();
      else stack.push(h.toVersion);
    }
    const current = await this.current(name, alias);
    const target = stack.at(-2);
    if (target === undefined || current === undefined) {
      throw new BatonError('conflict', `${name}@${alias} has no earlier version to roll back to (it is at v${current}; history: ${history.map((h) => `${h.fromVersion ?? '∅'}→${h.toVersion} (${h.kind})`).join(', ')}). Point it elsewhere with \`baton models promote ${name} VERSION --alias ${alias}\`.`);
    }
    await this.move({ name, alias, version: target, kind: 'rollback', actor: options.actor ?? defaultActor(), reason: options.reason, at: this.deps.clock.now(), ifCurrent: current });
    return { name, alias, from: current, to: target, moved: true };
  }

  private async runGate(gate: Gate, candidate: ModelVersionRecord, alias: string, current: number | undefined): Promise<GateReport> {
    const champion = current === undefined ? undefined : await this.store.getModelVersion(candidate.name, current);
    return evaluateGate(gate, { name: candidate.name, alias }, candidate, champion);
  }

  private async move(m: AliasMove): Promise<void> {
    const [ok] = await this.store.apply([{ type: 'moveModelAlias', move: m }]);
    if (!ok) throw await this.movedMeanwhile(m.name, m.alias, m.ifCurrent ?? undefined);
  }

  private async current(name: string, alias: string): Promise<number | undefined> {
    return (await this.store.getModelAliases(name)).find((a) => a.alias === alias)?.version;
  }

  private async version(name: string, version: number, known?: ModelVersionRecord[]): Promise<ModelVersionRecord> {
    const versions = known ?? (await this.versions(name));
    const v = versions.find((x) => x.version === version);
    if (v) return v;
    const list = versions.slice(-10).map((x) => x.version).join(', ');
    throw new BatonError('not_found', `Model "${name}" has no version ${version}. Its versions: ${versions.length > 10 ? '…, ' : ''}${list}; see \`baton models show ${name}\`.`);
  }

  private async pending(id: string): Promise<PromotionRecord> {
    const p = await this.store.getPromotion(id);
    if (!p) {
      const pending = await this.store.listPromotions({ status: 'pending' });
      const list = pending.length ? `Pending promotions: ${pending.slice(0, 10).map((x) => `${x.id} (${x.name} v${x.version} → ${x.alias})`).join(', ')}.` : 'No promotion is pending.';
      throw new BatonError('not_found', `No promotion "${id}". ${list} See \`baton models promotions\`.`);
    }
    if (p.status !== 'pending') {
      throw new BatonError('conflict', `Promotion ${id} (${p.name} v${p.version} → ${p.alias}) was already ${p.status}${p.decidedBy ? ` by ${p.decidedBy}` : ''}${p.decidedAt ? ` at ${new Date(p.decidedAt).toISOString()}` : ''}; only a pending promotion can be approved or rejected.`);
    }
    return p;
  }

  private async movedMeanwhile(name: string, alias: string, expected: number | undefined): Promise<BatonError> {
    const now = await this.current(name, alias);
    return new BatonError('conflict', `${name}@${alias} moved while this was decided (expected ${expected === undefined ? 'no holder' : `v${expected}`}, now ${now === undefined ? 'none' : `v${now}`}). Nothing was changed; look at \`baton models show ${name}\` and try again.`);
  }

  private async unknownModel(name: string): Promise<BatonError> {
    const names = (await this.store.listModels()).map((m) => m.name);
    const known = names.length ? `Models: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}.` : 'There are no models yet; register one with platform.models.register(name, { artifact, flavor }).';
    return new BatonError('not_found', `No model "${name}" in ${this.store.url}. ${known}`);
  }

  private async unknownAlias(name: string, alias: string): Promise<BatonError> {
    const aliases = await this.store.getModelAliases(name);
    const known = aliases.length ? `Its aliases: ${aliases.map((a) => `${a.alias} → v${a.version}`).join(', ')}.` : 'It has no aliases yet.';
    return new BatonError('not_found', `Model "${name}" has no alias "${alias}". ${known} Set one with \`baton models promote ${name} VERSION --alias ${alias}\`.`);
  }
}
