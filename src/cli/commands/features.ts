/**
 * `baton features list|materialize|get|serve`: the feature store from the command line. Thin: parsing and
 * rendering only; the rules live in src/features (definitions, materialize, getOnlineFeatures, the HTTP server).
 *
 * Where the definitions come from: a TypeScript or JavaScript module exporting feature views (each export a view,
 * or an array of views), given by `--defs FILE`, else `$BATON_FEATURES`, else `features.ts` in the project folder
 * (`--cwd`, default the current directory). The online store: `--online URL`, else `$BATON_ONLINE`, else
 * `.baton/online.db` in the project folder — a file path (or `sqlite:PATH`) is the embedded SQLite store,
 * `redis://HOST:PORT/DB` a Redis server shared by every machine (composition/adapters.ts opens either).
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Option, type Command } from 'commander';
import type { Platform } from '../../composition/platform.ts';
import { BatonError } from '../../errors.ts';
import type { FeatureView } from '../../features/definitions.ts';
import type { MaterializeResult } from '../../features/online/index.ts';
import { ONLINE_PATH } from '../../features/online/path.ts';
import type { OnlineStore } from '../../ports/online.ts';
import { c, table, when } from '../format.ts';

/** Opens the platform (with `online` set when the command has --online) around `fn`. */
type WithPlatform = (fn: (p: Platform) => Promise<void>, config?: { online?: string }) => Promise<void>;

interface Common {
  defs?: string;
  online?: string;
  json?: boolean;
}

const out = (s: string): void => void process.stdout.write(`${s}\n`);
const short = (version: string): string => version.slice(0, 12);
const show = (path: string): string => (relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path) || '.');

function defsFile(p: Platform, o: Common): string {
  const given = o.defs ?? (process.env.BATON_FEATURES || undefined); // an empty variable counts as unset
  if (given) return given;
  const fallback = join(p.config.cwd, 'features.ts');
  if (existsSync(fallback)) return fallback;
  throw new BatonError('usage', `Which feature views? Pass --defs FILE (a .ts or .js module exporting feature views), set BATON_FEATURES, or put them in ${show(fallback)}.`);
}

/** Loads the views and opens the online store (--online, else the platform's: BATON_ONLINE or .baton/online.db); closes it when `fn` ends. */
async function withFeatures(p: Platform, o: Common, fn: (views: FeatureView[], online: OnlineStore) => Promise<void>): Promise<void> {
  // Loaded on use, so that the rest of the CLI starts without the feature store's modules.
  const { loadFeatureViews } = await import('../../features/load-views.ts');
  const views = await loadFeatureViews(defsFile(p, o));
  await fn(views, await p.online());
}

function pick(views: FeatureView[], names: string[]): FeatureView[] {
  if (names.length === 0) return views;
  return names.map((name) => {
    const view = views.find((v) => v.name === name);
    if (!view) throw new BatonError('not_found', `No feature view "${name}" in the definitions (they define: ${views.map((v) => v.name).join(', ')}).`);
    return view;
  });
}

const sourceKind = (v: FeatureView): string => ('transform' in v.source ? 'transform' : 'sql' in v.source ? 'sql' : `file ${v.source.path.split(/[/\\]/).at(-1)}`);
const ttlText = (ms: number | null): string => (ms === null ? 'none' : ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 1000}s`);

async function onlineState(online: OnlineStore, v: FeatureView): Promise<string> {
  const state = await online.watermark(v.name);
  if (!state) return c.gray('not materialized');
  if (state.version !== v.version) return c.yellow(`stale: holds ${short(state.version)}`);
  return state.watermark === null ? 'materialized (no rows)' : `up to ${new Date(state.watermark).toISOString()}`;
}

/** `SEA` (a view with one join key) or `origin=SEA,dest=SFO` → an entity row. */
function entityRow(view: FeatureView, text: string): Record<string, string> {
  if (!text.includes('=')) {
    if (view.joinKeys.length !== 1) throw new BatonError('usage', `Feature view "${view.name}" has join keys ${view.joinKeys.join(', ')}: give each, e.g. ${view.joinKeys.map((k) => `${k}=…`).join(',')}.`);
    return { [view.joinKeys[0]!]: text };
  }
  const row: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    if (eq < 1 || !view.joinKeys.includes(key)) throw new BatonError('usage', `"${part}" is not KEY=VALUE for a join key of "${view.name}" (its join keys: ${view.joinKeys.join(', ')}).`);
    row[key] = part.slice(eq + 1);
  }
  return row;
}

function materializedLine(r: MaterializeResult): string {
  const range = `${r.from === null ? '(start' : `(${new Date(r.from).toISOString()}`} … ${new Date(r.until).toISOString()}]`;
  return `${c.green('materialized')}  ${c.bold(`${r.view}@${short(r.version)}`)}  ${r.rows} key(s) read, ${r.stored} stored  ${c.gray(`${r.full ? 'full' : 'incremental'} ${range}, watermark ${r.to === null ? 'none' : new Date(r.to).toISOString()}`)}`;
}

/** Resolves on the first SIGINT or SIGTERM. */
function stopSignal(): Promise<string> {
  return new Promise((done) => {
    const on = (sig: string) => () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      done(sig);
    };
    const onInt = on('SIGINT');
    const onTerm = on('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}

export function featureCommands(program: Command, withPlatform: WithPlatform): void {
  const features = program
    .command('features')
    .description('the feature store: list views, materialize them into the online store, read and serve online features');
  const common = (cmd: Command): Command =>
    cmd
      .option('--defs <file>', 'module exporting the feature views (default: $BATON_FEATURES, else features.ts in the project folder)')
      .option('--online <url>', 'online store: a SQLite file, or redis://HOST:PORT/DB (default: $BATON_ONLINE, else .baton/online.db)');

  common(features.command('list').description('the views: version, entities, source, TTL, features, online state'))
    .option('--json', 'JSON lines')
    .action(async (o: Common) => {
      await withPlatform((p) =>
        withFeatures(p, o, async (views, online) => {
          const states = await Promise.all(views.map((v) => online.watermark(v.name)));
          if (o.json) {
            return views.forEach((v, i) =>
              out(JSON.stringify({ name: v.name, version: v.version, joinKeys: v.joinKeys, source: sourceKind(v), ttlMs: v.ttlMs, features: v.features, online: states[i] ?? null, materialized: states[i]?.version === v.version })),
            );
          }
          const rows = await Promise.all(views.map(async (v) => [v.name, short(v.version), v.joinKeys.join(', '), sourceKind(v), ttlText(v.ttlMs), Object.keys(v.features).join(', '), await onlineState(online, v)]));
          out(table(rows, ['view', 'version', 'join keys', 'source', 'ttl', 'features', 'online']));
        }),
        o.online ? { online: o.online } : {},
      );
    });

  common(features.command('materialize').description('copy the latest feature values into the online store (incremental: only what changed since the last run)'))
    .argument('[views...]', 'views to materialize (default: all)')
    .option('--full', 'ignore the watermark and read the whole source')
    .option('--json', 'one JSON line per view')
    .action(async (names: string[], o: Common & { full?: boolean }) => {
      await withPlatform((p) =>
        withFeatures(p, o, async (views, online) => {
          const { materialize } = await import('../../features/online/materialize.ts');
          const engine = await p.offline();
          for (const view of pick(views, names)) {
            const r = await materialize(engine, online, view, { full: o.full === true });
            out(o.json ? JSON.stringify(r) : materializedLine(r));
          }
        }),
        o.online ? { online: o.online } : {},
      );
    });

  common(features.command('get').description('online feature values of one view for a few entities'))
    .argument('<view>', 'feature view name')
    .argument('<keys...>', 'entity keys: VALUE for a view with one join key, else KEY=VALUE,KEY=VALUE')
    .option('--features <names>', 'comma-separated features (default: all of the view)')
    .option('--json', 'the result as JSON (rows, statuses, views)')
    .action(async (name: string, keys: string[], o: Common & { features?: string }) => {
      await withPlatform((p) =>
        withFeatures(p, o, async (views, online) => {
          const [view] = pick(views, [name]);
          const wanted = o.features ? o.features.split(',').map((f) => f.trim()).filter(Boolean) : Object.keys(view!.features);
          const { getOnlineFeatures } = await import('../../features/online/serve.ts');
          const result = await getOnlineFeatures(online, { views, features: wanted.map((f) => `${view!.name}:${f}`), entityRows: keys.map((k) => entityRow(view!, k)) });
          if (o.json) return out(JSON.stringify(result, null, 2));
          const shown = (value: unknown, status: string | undefined): string => (status === 'present' ? (value === null ? c.gray('null') : String(value)) : c.gray(status ?? ''));
          out(table(result.rows.map((row, i) => [...view!.joinKeys.map((k) => String(row[k])), ...wanted.map((f) => shown(row[f], result.statuses[i]?.[f]))]), [...view!.joinKeys, ...wanted]));
        }),
        o.online ? { online: o.online } : {},
      );
    });

  common(features.command('serve').description(`serve online features over HTTP (POST ${ONLINE_PATH}) until Ctrl-C`))
    .addOption(new Option('--port <n>', 'port (0 picks a free one)').default(8080).argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new BatonError('usage', `--port must be a whole number from 0 to 65535, got "${v}".`);
      return n;
    }))
    .option('--host <host>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .action(async (o: Common & { port: number; host: string }) => {
      await withPlatform((p) =>
        withFeatures(p, o, async (views, online) => {
          const { startFeatureServer } = await import('../../features/online/http.ts');
          const server = await startFeatureServer({ online, views, port: o.port, host: o.host }).catch((err: unknown) => {
            const code = (err as { code?: string }).code;
            if (code === 'EADDRINUSE') throw new BatonError('usage', `Port ${o.port} on ${o.host} is in use. Pick another with --port N (0 picks a free one).`, { cause: err });
            if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new BatonError('usage', `Cannot listen on host "${o.host}": it is not an address of this machine. Use 127.0.0.1 or 0.0.0.0.`, { cause: err });
            throw err;
          });
          const stopped = stopSignal();
          try {
            out(`${c.green('serving')} ${views.length} feature view(s) at ${c.bold(`${server.url}${ONLINE_PATH}`)} ${c.gray(`(online store ${/^\w+:\/\//.test(online.location) ? online.location : show(online.location)}; Ctrl-C stops)`)}`);
            for (const v of views) out(`  ${v.name}@${short(v.version)}  ${await onlineState(online, v)}`);
            const example = views[0]!;
            const body = JSON.stringify({ features: [`${example.name}:${Object.keys(example.features)[0]}`], entities: [Object.fromEntries(example.joinKeys.map((k) => [k, '…']))] });
            out(c.gray(`  curl -s ${server.url}${ONLINE_PATH} -H 'content-type: application/json' -d '${body}'`));
            out(c.gray(`  health: ${server.url}/health  readiness (online store answers): ${server.url}/ready`));
            const sig = await stopped;
            out(c.gray(`${sig}: stopped at ${when(Date.now())}.`));
          } finally {
            await server.close();
          }
        }),
        o.online ? { online: o.online } : {},
      );
    });
}
