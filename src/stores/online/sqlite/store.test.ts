import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onlineConformance } from '../conformance.ts';
import { SqliteOnlineStore } from './store.ts';

onlineConformance('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-online-'));
  const path = join(dir, 'online.db');
  const store = SqliteOnlineStore.open({ path });
  return {
    store,
    reopen: async () => SqliteOnlineStore.open({ path }),
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
