// Runs the MetadataStore conformance suite against every adapter: SQLite (a temp file) and PostgreSQL (a real
// server started by the test run, one fresh database per suite run).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMetadataStore } from '../src/composition/adapters.ts';
import { metadataConformance } from '../src/stores/metadata/conformance.ts';
import { freshPostgresDatabase } from './support/postgres.ts';

metadataConformance('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-md-'));
  const url = `sqlite:${join(dir, 'baton.db')}`;
  const store = await openMetadataStore(url);
  return {
    store,
    open: () => openMetadataStore(url),
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

metadataConformance('postgres', async () => {
  const db = await freshPostgresDatabase();
  const store = await openMetadataStore(db.url);
  return {
    store,
    open: () => openMetadataStore(db.url),
    dispose: async () => {
      await store.close();
      await db.drop();
    },
  };
});
