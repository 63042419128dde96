/**
 * The `ctx.models` object a task uses: stores a model (a Model object saved with its flavor, a saved model
 * directory, or a single model file) in the artifact store, works out its flavor and signature, and keeps the list
 * of registrations so the attempt's result can report them. The engine registers them with the attempt's
 * successful finish, in the same commit, adding the run, task attempt and code hash (src/engine/runner.ts); the
 * attempt's reads are its inputs (lineage). Nothing here touches the metadata store.
 */
import { mkdtemp, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { BatonError, messageOf } from '../errors.ts';
import type { Model } from '../models/model.ts';
import type { ArtifactStore } from '../ports/artifacts.ts';
import type { ModelWrite } from '../ports/executor.ts';
import { attemptRegistrationId, checkModelMetrics, checkModelName, checkModelTags, type ModelRegistration } from '../registry/registration.ts';
import { signatureOfTask, toSignature, type ModelSignature } from '../registry/signature.ts';
import type { ModelAccess, ModelRegisterOptions } from '../sdk/context.ts';
import { DirHandleSchema, FileHandleSchema, type DirHandle, type FileHandle } from '../sdk/handles.ts';
import type { TaskDefinition } from '../sdk/task.ts';
import type { RecordingAccess } from './artifact-access.ts';
import { parseManifest } from './dir-manifest.ts';

export interface RecordingModels extends ModelAccess {
  /** Registrations made through this object, in order (one per name). */
  readonly written: ModelWrite[];
}

export interface ModelAccessDeps {
  access: RecordingAccess;
  store: ArtifactStore;
  /** The attempt's scratch folder (created on first use). */
  scratch: () => Promise<string>;
  /** The running task: its input and output types are the default signature. */
  task: Pick<TaskDefinition, 'inputSchema' | 'outputSchema'>;
  runId: string;
  nodeId: string;
  attempt: number;
}

const usage = (message: string): BatonError => new BatonError('usage', message);

/** The saved model's manifest file (src/models/model.ts; that module is loaded only by tasks that register). */
const MANIFEST_FILE = 'model.json';
const formats = () => import('../models/model.ts');

function isModelObject(v: unknown): v is Model {
  return typeof v === 'object' && v !== null && typeof (v as Model).predict === 'function' && typeof (v as Model).flavor === 'string';
}

/** Round-trips through JSON: the result travels to the engine over IPC and is stored as JSON. */
const plain = (v: ModelSignature): ModelSignature => JSON.parse(JSON.stringify(v)) as ModelSignature;

export function modelAccess(deps: ModelAccessDeps): RecordingModels {
  const written: ModelWrite[] = [];
  /** Names registered (or being registered) by this attempt. */
  const names = new Set<string>();
  let taskSignature: ModelSignature | null | undefined;

  /** The task's types as JSON Schema, computed once; a type JSON Schema cannot express at all leaves it out. */
  const defaultSignature = (): ModelSignature | undefined => {
    if (taskSignature === undefined) {
      try {
        taskSignature = plain(signatureOfTask(deps.task));
      } catch {
        taskSignature = null;
      }
    }
    return taskSignature ?? undefined;
  };

  const signatureFrom = (name: string, s: NonNullable<ModelRegisterOptions['signature']>): ModelSignature => {
    if ((typeof s !== 'object' && typeof s !== 'function') || s === null) throw usage(`Model "${name}": signature must be { input, output } (zod types or JSON Schemas) or a task, not ${JSON.stringify(s)}.`);
    try {
      return plain(toSignature(s));
    } catch (err) {
      throw usage(`Model "${name}": its signature cannot be turned into JSON Schema (${messageOf(err)}). Pass JSON Schemas, or zod types without functions (transforms are read on their input side).`);
    }
  };

  /** The flavor named in a stored directory's model.json, if it has one. */
  const flavorOfStoredDir = async (handle: DirHandle): Promise<string | undefined> => {
    const manifest = parseManifest(handle.sha256, await deps.store.read(handle.sha256));
    const entry = manifest.files.find((f) => f.path === MANIFEST_FILE);
    if (!entry) return undefined;
    try {
      const flavor = (JSON.parse((await deps.store.read(entry.sha256)).toString('utf8')) as { flavor?: unknown }).flavor;
      return typeof flavor === 'string' && flavor ? flavor : undefined;
    } catch {
      return undefined;
    }
  };

  const fileFlavor = (name: string, fileName: string, given: string | undefined): string => {
    if (given) return given;
    if (fileName.toLowerCase().endsWith('.onnx')) return 'onnx';
    throw usage(`Model "${name}": cannot tell how to load the file "${fileName}". Pass { flavor: 'js' | 'onnx' | … }, or register a directory saved with saveModel (its model.json names the flavor).`);
  };

  const requireStored = async (name: string, handle: FileHandle | DirHandle): Promise<void> => {
    if (!(await deps.store.has(handle.sha256))) {
      throw new BatonError('not_found', `Model "${name}": the ${handle.$artifact} "${handle.name}" (${handle.sha256.slice(0, 12)}) is not in the artifact store. Store it first with ctx.artifacts.putDir / putFile and register the handle it returns.`);
    }
  };

  /** Stores the model (unless it is a handle already) and says how to load it. */
  const store = async (name: string, model: unknown, flavor: string | undefined): Promise<{ artifact: DirHandle | FileHandle; flavor: string }> => {
    if (isModelObject(model)) {
      if (flavor && flavor !== model.flavor) throw usage(`Model "${name}": the model is a "${model.flavor}" model, but { flavor: '${flavor}' } was given. Leave flavor out for a Model object.`);
      const dir = join(await mkdtemp(join(await deps.scratch(), 'model-')), basename(name));
      const manifest = await (await formats()).saveModel(model, dir);
      return { artifact: await deps.access.putDir(dir, { name: basename(name) }), flavor: manifest.flavor };
    }
    const dir = DirHandleSchema.safeParse(model);
    if (dir.success) {
      await requireStored(name, dir.data);
      const found = flavor ?? (await flavorOfStoredDir(dir.data));
      if (!found) throw usage(`Model "${name}": the directory "${dir.data.name}" has no ${MANIFEST_FILE} (it was not saved with saveModel), so its flavor is unknown. Save the model with saveModel(model, dir), or pass { flavor }.`);
      return { artifact: dir.data, flavor: found };
    }
    const file = FileHandleSchema.safeParse(model);
    if (file.success) {
      await requireStored(name, file.data);
      return { artifact: file.data, flavor: fileFlavor(name, file.data.name, flavor) };
    }
    if (typeof model === 'string') {
      const info = await stat(model).catch(() => undefined);
      if (!info) throw new BatonError('not_found', `Model "${name}": ${model} does not exist. Pass the directory saveModel wrote, a model file, a handle or a Model object.`);
      if (info.isDirectory()) {
        const found = flavor ?? (await (await formats()).readManifest(model).then((m) => m.manifest.flavor, (err: unknown) => {
          throw usage(`Model "${name}": ${messageOf(err)}. Save the model with saveModel(model, dir), or pass { flavor }.`);
        }));
        return { artifact: await deps.access.putDir(model, { name: basename(name) }), flavor: found };
      }
      const found = fileFlavor(name, basename(model), flavor);
      return { artifact: await deps.access.putFile(model), flavor: found };
    }
    throw usage(`ctx.models.register("${name}", …) takes a Model object, a saved model directory (handle or path) or a model file (handle or path); got ${model === null ? 'null' : typeof model}.`);
  };

  return {
    written,
    async register(name, model, options = {}) {
      checkModelName(name);
      if (typeof options !== 'object' || options === null) throw usage(`ctx.models.register("${name}", model, options): options must be an object ({ metrics, tags, signature, flavor, description }).`);
      const registrationId = attemptRegistrationId(deps.runId, deps.nodeId, deps.attempt, name);
      if (names.has(name)) {
        throw new BatonError('conflict', `Model "${name}" was already registered by this attempt (${registrationId}): a task attempt registers one version per model name. Register the other model under another name, or from another task.`);
      }
      if (options.flavor !== undefined && (typeof options.flavor !== 'string' || !options.flavor)) throw usage(`Model "${name}": flavor must be a flavor name such as 'js' or 'onnx', not ${JSON.stringify(options.flavor)}.`);
      if (options.description !== undefined && typeof options.description !== 'string') throw usage(`Model "${name}": description must be a string.`);
      const metrics = checkModelMetrics(name, options.metrics);
      const tags = checkModelTags(name, options.tags, true);
      const signature = options.signature !== undefined ? signatureFrom(name, options.signature) : defaultSignature();
      names.add(name); // before storing: a concurrent second registration of the name is refused too
      let stored: Awaited<ReturnType<typeof store>>;
      try {
        stored = await store(name, model, options.flavor);
      } catch (err) {
        names.delete(name);
        throw err;
      }
      const { artifact, flavor } = stored;
      const registration: ModelRegistration = { $model: 'registration', name, registrationId, artifact, flavor };
      written.push({
        name, artifact: artifact.sha256, flavor, metrics, tags,
        ...(signature ? { signature } : {}),
        ...(options.description ? { description: options.description } : {}),
      });
      return registration;
    },
  };
}
