/**
 * The model registry in domain words: named models with numbered, immutable versions (an artifact, a flavor, a
 * signature, metrics, tags and the attempt that produced it), aliases that point at versions with the full
 * history of every move (who, when, why), and promotions (a request to move an alias, gated and maybe pending an
 * approval). The MetadataStore stores them (mutations `registerModelVersion`, `moveModelAlias`,
 * `requestModelPromotion`, `decideModelPromotion`) and reads them back (RegistryReads).
 */

/** Where a model version came from: the run, task and attempt that trained it, and the code it ran. */
export interface ModelLineage {
  runId?: string;
  nodeId?: string;
  attempt?: number;
  codeHash?: string;
}

/** What a new model version is made of; the store assigns its number. */
export interface NewModelVersion {
  name: string;
  /** Unique per registration (the service makes one): a retried registration is the same version, not a new one. */
  registrationId: string;
  /** Artifact sha256 of the model file or directory (a directory's manifest hash). */
  artifact: string;
  /** How to load it, e.g. 'js' or 'onnx'. */
  flavor: string;
  /** JSON Schema of the model's input and output, if known. */
  signature?: { input?: unknown; output?: unknown };
  metrics: Record<string, number>;
  tags: Record<string, string>;
  lineage?: ModelLineage;
  description?: string;
  createdAt: number;
}

/** An immutable version of a named model, numbered 1, 2, … per name in registration order. */
export interface ModelVersionRecord extends NewModelVersion {
  version: number;
}

export interface ModelSummary {
  name: string;
  latest: number;
  versions: number;
  /** Alias → version. */
  aliases: Record<string, number>;
  createdAt: number;
  /** When the latest version was registered. */
  updatedAt: number;
}

export interface ModelAliasRecord {
  name: string;
  alias: string;
  version: number;
  updatedAt: number;
}

/** How an alias came to move. */
export type AliasMoveKind = 'set' | 'promote' | 'rollback';

/** One move of an alias, as recorded (append-only). */
export interface AliasMoveRecord {
  seq: number;
  name: string;
  alias: string;
  /** Absent when the alias did not exist before the move. */
  fromVersion?: number;
  toVersion: number;
  kind: AliasMoveKind;
  actor: string;
  reason: string;
  at: number;
}

export type PromotionStatus = 'pending' | 'approved' | 'rejected';

export interface PromotionRecord {
  id: string;
  name: string;
  alias: string;
  version: number;
  status: PromotionStatus;
  requestedBy: string;
  reason: string;
  /** The gate and its result when requested (see src/registry/gate.ts). */
  gateReport?: unknown;
  decidedBy?: string;
  decidedAt?: number;
  decisionReason?: string;
  createdAt: number;
}

/** A move of an alias to a version, as part of a mutation. */
export interface AliasMove {
  name: string;
  alias: string;
  version: number;
  kind: AliasMoveKind;
  actor: string;
  reason: string;
  at: number;
  /**
   * Compare-and-set: the move applies only if the alias is at this version now (null: the alias does not exist).
   * Absent: whatever the alias holds.
   */
  ifCurrent?: number | null;
}

/** An artifact the attempt that produced a model version read (its input), with the dataset versions it is the file of. */
export interface ModelInput {
  sha256: string;
  /** Dataset versions whose data file this artifact is (empty for other artifacts). */
  datasets: { name: string; version: number }[];
}

export interface RegistryReads {
  /** Every model with at least one version, by name. */
  listModels(): Promise<ModelSummary[]>;
  /** Versions of a model, oldest first; empty for an unknown name. */
  getModelVersions(name: string): Promise<ModelVersionRecord[]>;
  getModelVersion(name: string, version: number): Promise<ModelVersionRecord | undefined>;
  /** The version a registration made (registration ids are unique); undefined if it never committed. */
  getModelVersionByRegistration(registrationId: string): Promise<ModelVersionRecord | undefined>;
  /** Versions registered by a run's task attempts (of one node, when given), in registration order. */
  getModelVersionsOfRun(runId: string, nodeId?: string): Promise<ModelVersionRecord[]>;
  /** What the attempt that produced a version read (lineage), with dataset versions named; empty without lineage. */
  getModelInputs(name: string, version: number): Promise<ModelInput[]>;
  getModelAliases(name: string): Promise<ModelAliasRecord[]>;
  /** Alias moves, oldest first; of one alias or of all the model's aliases. */
  getAliasHistory(name: string, alias?: string): Promise<AliasMoveRecord[]>;
  getPromotion(id: string): Promise<PromotionRecord | undefined>;
  /** Promotions, newest first. */
  listPromotions(filter?: { name?: string; status?: PromotionStatus }): Promise<PromotionRecord[]>;
}
