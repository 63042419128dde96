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
