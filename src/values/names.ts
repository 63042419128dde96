/**
 * Names that may end up in file-system paths. Two rules, one per kind of name:
 *
 * - A name a user chooses for a registry entry (a dataset, a model) may have `/`-separated parts ("raw/flights"),
 *   but every part must be a real name: no empty, `.` or `..` part. Such names are refused, never repaired, so the
 *   store only holds names that mean what they say (`isPathSafeName`).
 * - A handle's display name (a file or folder name recorded when it was stored) is only a label: where it names a
 *   local file or folder it is reduced to a safe base name (`safeBaseName`), since handles travel through
 *   parameters and outputs that anyone can forge.
 */

const PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The characters and shape `isPathSafeName` allows, for error messages. */
export const PATH_SAFE_NAME_RULE = 'letters, digits, ".", "_", "-", and "/" between parts; each part starts with a letter or digit (so no "..", "./" or "//")';

/** True for 1–`max` characters of `/`-separated parts, each starting with a letter or digit (no `.`/`..` parts). */
export function isPathSafeName(name: unknown, max = 128): name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > max) return false;
  return name.split('/').every((part) => PART.test(part));
}

/**
 * A base name safe to use as one path component: the last `/` or `\` part, with anything but letters, digits,
 * `.`, `_`, `-` replaced by `_`, leading dots dropped (no `.`, `..` or hidden names), at most 100 characters.
 * `fallback` when nothing is left (or the name is not a string).
 */
export function safeBaseName(name: unknown, fallback: string): string {
  if (typeof name !== 'string') return fallback;
  const last = name.split(/[/\\]/).filter((p) => p !== '').pop() ?? '';
  const cleaned = last.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 100);
  return cleaned || fallback;
}
