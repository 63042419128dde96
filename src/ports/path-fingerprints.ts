/**
 * PathFingerprints: what the engine learns about local files and folders that task inputs name by path, so a cache
 * key can follow their content. The engine stays free of file-system access; the embedded implementation is
 * src/runtime/path-fingerprints.ts.
 */

export interface PathScan {
  /**
   * For each candidate naming an existing file or folder (relative candidates resolve against the engine's working
   * directory): a fingerprint of its content. With `content: false`, the kind ('file' | 'dir') instead of a hash.
   */
  paths: Record<string, string>;
  /** Candidates that name a folder too large to fingerprint, with why; their changes are not seen. */
  skipped: Record<string, string>;
}

/** Scans candidate strings; never throws for a candidate that does not exist or cannot be read (it is left out). */
export type FingerprintPaths = (candidates: readonly string[], options: { content: boolean }) => Promise<PathScan>;
