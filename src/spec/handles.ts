/**
 * Typed handles to large values kept in the content-addressed artifact store. A task returns a handle (made with
 * `ctx.artifacts.putFile(...)` and friends); downstream tasks receive the same handle and open it by hash, so the
 * bytes are written once and never copied between tasks on one machine.
 */
import { z } from 'zod';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest');

export const FileHandleSchema = z.object({
  $artifact: z.literal('file'),
  sha256,
  size: z.number().int().nonnegative(),
  /** The file's base name when it was stored; used when it is materialised on disk. */
  name: z.string(),
  /** Optional format hint for tables: 'csv', 'parquet', 'json'. */
  format: z.string().optional(),
});
export type FileHandle = z.infer<typeof FileHandleSchema>;

export const DirHandleSchema = z.object({
  $artifact: z.literal('dir'),
  /** Hash of the directory manifest (sorted relative paths with their file hashes). */
  sha256,
  size: z.number().int().nonnegative(),
  name: z.string(),
  files: z.number().int().nonnegative(),
});
export type DirHandle = z.infer<typeof DirHandleSchema>;

/** The formats a dataset version's file may have. */
export const DatasetFormatSchema = z.enum(['csv', 'parquet', 'json']);
export type DatasetFormat = z.infer<typeof DatasetFormatSchema>;

/**
 * A dataset handle: the file handle of one immutable version of a named dataset, with what was recorded about it
 * when it was written. Made by `ctx.datasets.write(...)` in a task or `platform.datasets.handle('name@2')`.
 */
export const DatasetHandleSchema = FileHandleSchema.extend({
  format: DatasetFormatSchema,
  dataset: z.object({
    name: z.string(),
    /** The version number, when known: a handle made inside a task gets its number when the attempt commits. */
    version: z.number().int().positive().optional(),
    schema: z.array(z.object({ name: z.string(), type: z.string(), kind: z.string(), nullable: z.boolean() })),
    rows: z.number().int().nonnegative(),
    /** Artifact sha256 of the version's profile (per-column statistics, JSON). */
    profile: sha256.optional(),
  }),
});
export type DatasetHandle = z.infer<typeof DatasetHandleSchema>;

/** Schema for a dataset handle input or output: `output: z.object({ clean: dataset() })`. */
export function dataset(): typeof DatasetHandleSchema {
  return DatasetHandleSchema;
}

export function isDatasetHandle(value: unknown): value is DatasetHandle {
  return DatasetHandleSchema.safeParse(value).success;
}

/** Schema for a file handle input or output: `output: z.object({ model: file() })`. */
export function file(): typeof FileHandleSchema {
  return FileHandleSchema;
}

/** Schema for a table stored as a file (CSV, Parquet, JSON lines). */
export function table(): typeof FileHandleSchema {
  return FileHandleSchema;
}

/** Schema for a directory handle. */
export function dir(): typeof DirHandleSchema {
  return DirHandleSchema;
}

/** Schema for raw bytes; values over the inline limit are stored as artifacts automatically. */
export function bytes(): z.ZodType<Uint8Array> {
  return z.instanceof(Uint8Array);
}

export function isFileHandle(value: unknown): value is FileHandle {
  return FileHandleSchema.safeParse(value).success;
}
export function isDirHandle(value: unknown): value is DirHandle {
  return DirHandleSchema.safeParse(value).success;
}
