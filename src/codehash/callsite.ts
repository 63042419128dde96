// Finds the user code location that called into the SDK, from a V8 stack trace.
//
// Verified experimentally (Node 20.20, tsx 4.23): under `node --import tsx` stack frames carry the ORIGINAL
// TypeScript line and column (tsx enables source maps), even when type-only lines precede the call, and the frames
// name plain absolute paths rather than file:// URLs. Plain Node running .js prints file:// URLs for ESM; both forms
// are accepted here.
import { fileURLToPath } from 'node:url';

export type CallSite = { file: string; line: number; column: number };

const SELF = fileURLToPath(import.meta.url);
// `at fn (LOCATION)` or `at LOCATION`, where LOCATION ends in `:line:column`.
const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/;

/**
 * The first stack frame outside this module, node internals, node_modules and any file whose path contains one of
 * `skipFilesContaining`. Frames that are not files (eval, REPL) are returned as they are, so that the hasher falls
 * back to the function source for them. Undefined when no frame qualifies.
 */
export function captureCallSite(skipFilesContaining: string[] = []): CallSite | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Math.max(limit, 50);
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const text of stack.split('\n').slice(1)) {
    const m = FRAME.exec(text);
    if (!m) continue;
    let file = m[1]!;
    if (file.startsWith('file://')) file = fileURLToPath(file);
    if (file === SELF || file.startsWith('node:') || /[\\/]node_modules[\\/]/.test(file)) continue;
    if (skipFilesContaining.some((s) => file.includes(s))) continue;
    return { file, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}
