/**
 * DatasetService: named, versioned datasets over the ports — register a file outside a workflow, list datasets,
 * resolve `NAME[@VERSION]`, show a version with its lineage and profile, diff two versions, and make a handle to
 * pass into a run. Tasks write versions through `ctx.datasets` instead; both end in the same `putDatasetVersion`.
 *
 * Errors: an unknown dataset or version is `not_found` and lists what exists; a file the OfflineEngine cannot read
 * (empty, malformed CSV) is its `data_invalid` error, raised before anything is stored.
 */
import { basename } from 'node:path';
import { BatonError } from '../../errors.ts';
import type { ArtifactStore } from '../../ports/artifacts.ts';
import type { Clock } from '../../ports/clock.ts';
import type { DatasetLineage, DatasetSummary, DatasetVersionRecord, MetadataStore } from '../../ports/metadata.ts';
import type { OfflineEngine } from '../../ports/offline.ts';
import type { DatasetHandle } from '../../sdk/handles.ts';
import { canonicalJson } from '../../values/codec.ts';
import { diffProfiles, type DatasetProfile, type DiffOptions, type ProfileDiff } from '../profiling/index.ts';
import { describeDataFile } from './describe.ts';
import type { FeatureViewRef } from './feature-views.ts';
import { checkDatasetName, datasetFormat, formatRef, parseDatasetRef, type DatasetRef } from './ref.ts';

export interface DatasetServiceDeps {
  store: MetadataStore;
  artifacts: ArtifactStore;
  /** Opened on first use (profiling a file); never closed by the service. */
  offline: () => Promise<OfflineEngine>;
  clock: Clock;
}

export interface RegisterOptions {
  /** @default from the file's extension */
  format?: string;
}

export interface Registered {
  version: DatasetVersionRecord;
  /** false when the dataset already had this content: its existing version is returned. */
  created: boolean;
}

export interface DatasetDetails {
  version: DatasetVersionRecord;
  latest: number;
  lineage: DatasetLineage;
  profile?: DatasetProfile;
  /** For a training set: the feature views (name + version) it was built from. */
  featureViews?: FeatureViewRef[];
}

export class DatasetService {
  constructor(private readonly deps: DatasetServiceDeps) {}

  /** Registers a data file as a version of `name` (a new one unless the dataset already holds this content). */
  async register(name: string, path: string, options: RegisterOptions = {}): Promise<Registered> {
    checkDatasetName(name);
    const format = datasetFormat(path, options.format);
    const described = await describeDataFile(await this.deps.offline(), path, format, name);
    const file = await this.deps.artifacts.putFile(path);
    const profile = await this.deps.artifacts.put(canonicalJson(described.profile));
    const [created] = await this.deps.store.apply([
      {
        type: 'putDatasetVersion',
        version: { name, sha256: file.sha256, format, size: file.size, rows: described.rows, schema: described.schema, profileRef: profile.sha256, createdAt: this.deps.clock.now() },
      },
    ]);
    const version = await this.deps.store.getDatasetVersion(name, file.sha256);
    if (!version) throw new BatonError('internal', `Dataset "${name}" version with sha256 ${file.sha256} was registered but cannot be read back from ${this.deps.store.url}.`);
    return { version, created: created === true };
  }

  list(): Promise<DatasetSummary[]> {
    return this.deps.store.listDatasets();
  }

  /** Every version of a dataset, oldest first; not_found (listing the datasets) for an unknown name. */
  async versions(name: string): Promise<DatasetVersionRecord[]> {
    const versions = await this.deps.store.getDatasetVersions(checkDatasetName(name));
    if (versions.length === 0) throw await this.unknownDataset(name);
    return versions;
  }

  /** Resolves `NAME[@VERSION]` (or a parsed reference) to a version. */
  async resolve(ref: string | DatasetRef): Promise<DatasetVersionRecord> {
    const r = typeof ref === 'string' ? parseDatasetRef(ref) : ref;
    const found = (await this.deps.store.getDatasetVersion(checkDatasetName(r.name), r.version)) ?? (r.orSha ? await this.deps.store.getDatasetVersion(r.name, r.orSha) : undefined);
    if (found) return found;
    const versions = await this.deps.store.getDatasetVersions(r.name);
    if (versions.length === 0) throw await this.unknownDataset(r.name);
    const list = versions.slice(-10).map((v) => `${v.version} (${v.sha256.slice(0, 8)})`).join(', ');
    throw new BatonError('not_found', `Dataset "${r.name}" has no version ${JSON.stringify(r.version)}. Its versions: ${versions.length > 10 ? '…, ' : ''}${list}; see \`baton datasets show ${r.name}\`.`);
  }

  async show(ref: string | DatasetRef): Promise<DatasetDetails> {
    const version = await this.resolve(ref);
    const [latest, lineage, profile] = await Promise.all([
      this.deps.store.getDatasetVersion(version.name, 'latest'),
      this.deps.store.getDatasetLineage(version.name, version.version),
      this.profile(version),
    ]);
    return { version, latest: latest?.version ?? version.version, lineage: lineage ?? { readBy: [] }, ...(profile ? { profile } : {}), ...(profile?.featureViews ? { featureViews: profile.featureViews } : {}) };
  }

  /** Schema changes, row counts and per-column statistics (with drift scores) from version `a` to version `b`. */
  async diff(a: string | DatasetRef, b: string | DatasetRef, options: DiffOptions = {}): Promise<ProfileDiff> {
    const [va, vb] = await Promise.all([this.resolve(a), this.resolve(b)]);
    const [pa, pb] = await Promise.all([this.requireProfile(va), this.requireProfile(vb)]);
    return diffProfiles({ ...pa, source: formatRef(va.name, va.version) }, { ...pb, source: formatRef(vb.name, vb.version) }, options);
  }

  /** A handle to a version, to pass into a run (e.g. as a workflow parameter). */
  async handle(ref: string | DatasetRef): Promise<DatasetHandle> {
    const v = await this.resolve(ref);
    return {
      $artifact: 'file',
      sha256: v.sha256,
      size: v.size,
      name: `${basename(v.name)}.${v.format}`,
      format: v.format,
      dataset: { name: v.name, version: v.version, schema: v.schema, rows: v.rows, ...(v.profileRef ? { profile: v.profileRef } : {}) },
    };
  }

  /** The version's stored profile, if it has one. */
  async profile(v: DatasetVersionRecord): Promise<DatasetProfile | undefined> {
    if (!v.profileRef) return undefined;
    return JSON.parse((await this.deps.artifacts.read(v.profileRef)).toString('utf8')) as DatasetProfile;
  }

  private async requireProfile(v: DatasetVersionRecord): Promise<DatasetProfile> {
    const p = await this.profile(v);
    if (!p) throw new BatonError('not_found', `Dataset ${formatRef(v.name, v.version)} has no stored profile (it was registered without one), so it cannot be diffed.`);
    return p;
  }

  private async unknownDataset(name: string): Promise<BatonError> {
    const names = (await this.deps.store.listDatasets()).map((d) => d.name);
    const known = names.length ? `Datasets: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}.` : 'There are no datasets yet; register one with `baton datasets register NAME FILE`.';
    return new BatonError('not_found', `No dataset "${name}" in ${this.deps.store.url}. ${known}`);
  }
}
