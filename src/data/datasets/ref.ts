/**
 * Dataset names and references as users write them: `sales`, `sales@3`, `sales@latest`, `sales@9f2c01` (a sha256
 * prefix of the version's content). Names are checked where they enter (a task's `ctx.datasets.write`, the CLI,
 * `platform.datasets`), so the store only ever holds names these references can spell.
 */
import { BatonError } from '../../errors.ts';
import { formatOf, type FileFormat } from '../../ports/offline.ts';
import { isPathSafeName, PATH_SAFE_NAME_RULE } from '../../values/names.ts';

export const DATASET_FORMATS: readonly FileFormat[] = ['csv', 'parquet', 'json'];

export interface DatasetRef {
  name: string;
  /** A version number, 'latest', or a sha256 prefix. */
  version: number | 'latest' | string;
  /** A number of 4+ digits may also be a sha256 prefix: tried as one when no version has that number. */
  orSha?: string;
}

export function checkDatasetName(name: string): string {
  if (!isPathSafeName(name)) {
    throw new BatonError('usage', `Dataset name ${JSON.stringify(name)} is not valid. Use 1–128 characters: ${PATH_SAFE_NAME_RULE} (e.g. "sales" or "raw/flights").`);
  }
  return name;
}

/** Parses `NAME[@VERSION]`; without a version, the latest. */
export function parseDatasetRef(text: string): DatasetRef {
  const at = text.lastIndexOf('@');
  const name = checkDatasetName(at < 0 ? text : text.slice(0, at));
  if (at < 0) return { name, version: 'latest' };
  const v = text.slice(at + 1);
  if (/^[1-9][0-9]{0,8}$/.test(v)) return { name, version: Number(v), ...(v.length >= 4 ? { orSha: v } : {}) };
  if (v === 'latest') return { name, version: 'latest' };
  if (/^[0-9a-f]{4,64}$/i.test(v)) return { name, version: v.toLowerCase() };
  throw new BatonError('usage', `"${text}" is not a dataset reference. Write NAME, NAME@VERSION (e.g. ${name}@2), NAME@latest or NAME@SHA (at least 4 hex digits of its content hash).`);
}

export function formatRef(name: string, version: number | string): string {
  return `${name}@${version}`;
}

/** The format of a dataset file: the explicit one (checked), else from its extension. */
export function datasetFormat(path: string, format?: string): FileFormat {
  if (format !== undefined) {
    if (!(DATASET_FORMATS as string[]).includes(format)) {
      throw new BatonError('usage', `Unknown dataset format "${format}". Use one of: ${DATASET_FORMATS.join(', ')}.`);
    }
    return format as FileFormat;
  }
  try {
    return formatOf(path);
  } catch (err) {
    throw new BatonError('usage', `Cannot tell the format of "${path}" from its extension. Give it: --format csv|parquet|json (or { format } in code).`, { cause: err });
  }
}
