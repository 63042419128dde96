// One isolated PostgreSQL database per caller, on one shared server.
//
// The server is BATON_TEST_PG_URL when set (npm test sets it after starting a server), otherwise a private server
// started with scripts/services/postgres.mjs once per process and stopped when the process exits.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface FreshDatabase {
  /** Connection URL of the new, empty database. */
  url: string;
  /** Drops the database, disconnecting whoever is still connected to it. */
  drop(): Promise<void>;
}

interface PostgresServer {
  url: string;
  stop(): Promise<void>;
}

interface PostgresServiceModule {
  startPostgres(options?: { quiet?: boolean }): Promise<PostgresServer>;
}

// Imported through a URL so TypeScript does not need a declaration file for the plain-JavaScript script.
const serviceModuleUrl = new URL('../../scripts/services/postgres.mjs', import.meta.url).href;

let server: Promise<PostgresServer> | undefined;

async function serverUrl(): Promise<string> {
  const fromEnv = process.env.BATON_TEST_PG_URL;
  if (fromEnv) return fromEnv;
  // The server registers its own process 'exit' handler, which stops it if nobody called stop().
  server ??= (async () => {
    const { startPostgres } = (await import(serviceModuleUrl)) as PostgresServiceModule;
    return startPostgres({ quiet: true });
  })();
  server.catch(() => {
    server = undefined; // let a later call retry (and report the error again)
  });
  return (await server).url;
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function freshPostgresDatabase(): Promise<FreshDatabase> {
  const adminUrl = await serverUrl();
  const name = `baton_t_${randomBytes(8).toString('hex')}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
