/** Opens a Platform on a fresh temporary folder (SQLite + local artifacts) for a test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPlatform, type Platform } from '../../src/composition/platform.ts';
import type { PlatformConfig } from '../../src/composition/config.ts';

export async function tempPlatform(config: PlatformConfig = {}): Promise<{ platform: Platform; dir: string; dispose: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-test-'));
  const platform = await openPlatform({ cwd: dir, executor: 'inline', cpus: 4, ...config });
  return {
    platform,
    dir,
    dispose: async () => {
      await platform.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
