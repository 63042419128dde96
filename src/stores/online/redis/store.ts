/**
 * The distributed OnlineStore: Redis, through ioredis. Several feature servers and materialization jobs on any
 * number of machines share one store; the data layout is the one Feast users know from its Redis online store.
 *
 * Layout (PREFIX defaults to `baton:`; `?prefix=` in the URL or the `prefix` option changes it):
 * - One hash per entity key, `PREFIX` + `e:` + the JSON of the join-key values (`baton:e:["SEA","SFO"]`), shared by
 *   every view keyed by those values. Per view it holds `_ts:VIEW` = `GEN:TS` (the event time of the values, epoch
 *   ms, and the definition generation they belong to) and one field `VIEW:FEATURE` per feature, its value as JSON
 *   (so a string "42" stays a string). As in Feast, a read of a view is one HMGET per entity.
 * - One hash per view, `PREFIX` + `view:` + VIEW: `version`, `gen`, `watermark`.
 *
 * Rules, enforced by Lua scripts (scripts.ts) so racing writers cannot break them:
 * - keep-if-newer: a row is written only if its ts is newer than the stored one's, compared and set atomically
 *   inside Redis (Feast compares in the client between a read and a write, so two racing materializations can
 *   regress a value; here they cannot);
 * - a new version bumps the view's generation: every value of the old definition is dead at once (reads and
 *   writes ignore other generations), then its fields are purged with a SCAN over the entity hashes.
 *
 * Round trips: write = 1 (version check) + 1 per `pipelineSize` rows; read of any number of keys = 1 (a pipeline:
 * the view's meta HMGET, then one HMGET per key); watermark = 1. Every script touches one key, so the layout suits a
 * Redis Cluster, though this adapter connects to one server (or a proxy) for now.
 *
 * View names may not contain ":" nor be "_ts" (both would make field names ambiguous); feature-view names never do.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import { BatonError } from '../../../errors.ts';
import type { OnlineRow, OnlineStore, OnlineValue, StoredValues, ViewState } from '../../../ports/online.ts';
import { checkRow, checkWatermark } from '../rows.ts';
import { commandError, connectRedis, parseRedisUrl } from './connection.ts';
import { ENSURE, PURGE, WRITE } from './scripts.ts';

export interface RedisOnlineOptions {
  /** `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?prefix=P]`; rediss:// for TLS. @default 'redis://127.0.0.1:6379/0' */
  url?: string;
  /** Prepended to every key, so several projects (or tests) can share one database. @default the URL's ?prefix=, else 'baton:' */
  prefix?: string;
  /** How long open() waits for Redis to answer. @default 5000 */
  connectTimeoutMs?: number;
  /** Rows per pipeline when writing (one round trip each). @default 1000 */
  pipelineSize?: number;
}

/** The Lua scripts as commands (ioredis `defineCommand`: EVALSHA, loading the script when Redis lacks it). */
interface Scripts<R> {
  batonOnlineWrite(key: string, view: string, gen: number, ts: string, ...fieldsAndValues: string[]): R;
  batonOnlineEnsure(key: string, version: string, watermark: string): R;
  batonOnlinePurge(key: string, view: string, gen: number): R;
}
type Client = Redis & Scripts<Promise<unknown>>;
type Pipeline = ChainableCommander & Scripts<ChainableCommander>;

const TS = '_ts:';

export class RedisOnlineStore implements OnlineStore {
  private closed = false;

  private constructor(
    private readonly client: Client,
    /** The URL, password hidden: what messages show. */
    readonly location: string,
    readonly prefix: string,
    private readonly lastError: () => Error | undefined,
    private readonly pipelineSize: number,
  ) {}

  /** Connects; fails with a `store` error naming the URL when Redis does not answer within connectTimeoutMs. */
  static async open(options: RedisOnlineOptions = {}): Promise<RedisOnlineStore> {
    const target = parseRedisUrl(options.url ?? 'redis://127.0.0.1:6379/0');
    const pipelineSize = options.pipelineSize ?? 1000;
    if (!Number.isInteger(pipelineSize) || pipelineSize < 1) throw new BatonError('usage', `pipelineSize must be a positive integer, got ${pipelineSize}.`);
    const { client, lastError } = await connectRedis(target, options.connectTimeoutMs ?? 5_000);
    client.defineCommand('batonOnlineWrite', { numberOfKeys: 1, lua: WRITE });
    client.defineCommand('batonOnlineEnsure', { numberOfKeys: 1, lua: ENSURE });
    client.defineCommand('batonOnlinePurge', { numberOfKeys: 1, lua: PURGE });
    return new RedisOnlineStore(client as Client, target.shown, options.prefix ?? target.prefix ?? 'baton:', lastError, pipelineSize);
  }

  write(view: string, version: string, rows: OnlineRow[]): Promise<number> {
    return this.run(async () => {
      checkView(view);
      rows.forEach(checkRow(view));
      const gen = await this.ensure(view, version, '');
      let stored = 0;
      for (let start = 0; start < rows.length; start += this.pipelineSize) {
        const pipe = this.client.pipeline() as Pipeline;
        for (const r of rows.slice(start, start + this.pipelineSize)) {
          const fields: string[] = [];
          for (const [feature, value] of Object.entries(r.values)) fields.push(`${view}:${feature}`, JSON.stringify(value ?? null));
          pipe.batonOnlineWrite(this.entityKey(r.key), view, gen, String(r.ts), ...fields);
        }
        for (const result of await exec(pipe)) stored += result === 1 ? 1 : 0;
      }
      return stored;
    });
  }

  read(view: string, keys: string[][], features?: string[]): Promise<(StoredValues | null)[]> {
    return this.run(async () => {
      checkView(view);
      const pipe = this.client.pipeline();
      pipe.hmget(this.metaKey(view), 'version', 'gen');
      const fields = features ? [`${TS}${view}`, ...features.map((f) => `${view}:${f}`)] : undefined;
      for (const key of keys) {
        if (fields) pipe.hmget(this.entityKey(key), ...fields);
        else pipe.hgetall(this.entityKey(key));
      }
      const [meta, ...replies] = await exec(pipe);
      const [version, genText] = meta as (string | null)[];
      if (version == null) throw new BatonError('not_found', `The online store has no feature view "${view}". Run materialize for it first.`);
      const gen = Number(genText);
      return replies.map((reply) => (fields ? fromFields(reply as (string | null)[], features!, gen) : fromHash(reply as Record<string, string>, view, gen)));
    });
  }

  watermark(view: string): Promise<ViewState | null> {
    return this.run(async () => {
      checkView(view);
      const [version, watermark] = await this.client.hmget(this.metaKey(view), 'version', 'watermark');
      return version == null ? null : { version, watermark: watermark == null ? null : Number(watermark) };
    });
  }

  setWatermark(view: string, version: string, ts: number): Promise<void> {
    return this.run(async () => {
      checkView(view);
      checkWatermark(view, ts);
      await this.ensure(view, version, String(Math.trunc(ts)));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect(); // not connected: nothing to say goodbye to
    }
  }

  private entityKey(key: string[]): string {
    return `${this.prefix}e:${JSON.stringify(key)}`;
  }

  private metaKey(view: string): string {
    return `${this.prefix}view:${view}`;
  }

  /** Sets the view's version (and watermark); returns its generation, purging an old definition's values first. */
  private async ensure(view: string, version: string, watermark: string): Promise<number> {
    const [gen, changed] = (await this.client.batonOnlineEnsure(this.metaKey(view), version, watermark)) as [number, number];
    if (changed === 1) await this.purge(view, gen);
    return gen;
  }

  /** Drops the view's values of older generations from every entity hash under the prefix (a SCAN, batched). */
  private async purge(view: string, gen: number): Promise<void> {
    const match = `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}e:*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const pipe = this.client.pipeline() as Pipeline;
      for (const key of keys) pipe.batonOnlinePurge(key, view, gen);
      await exec(pipe);
    } while (cursor !== '0');
  }

  private async run<T>(body: () => Promise<T>): Promise<T> {
    if (this.closed) throw new BatonError('store', `The Redis online store at ${this.location} is closed; open a new one.`);
    try {
      return await body();
    } catch (err) {
      throw commandError(this.location, this.client, this.lastError(), err);
    }
  }
}

function checkView(view: string): void {
  if (typeof view !== 'string' || view === '' || view.includes(':') || view === '_ts') {
    throw new BatonError('data_invalid', `The Redis online store cannot hold a view named ${JSON.stringify(view)}: a view name must be non-empty, without ":" and not "_ts". Rename the feature view (letters, digits and _).`);
  }
}

/** Runs a pipeline; the first failed command's error is thrown. */
async function exec(pipe: ChainableCommander): Promise<unknown[]> {
  const results = await pipe.exec();
  if (!results) throw new Error('the pipeline was discarded (the connection closed)');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/** `GEN:TS` → [gen, ts]. */
function stamp(text: string): [number, number] {
  const sep = text.indexOf(':');
  return [Number(text.slice(0, sep)), Number(text.slice(sep + 1))];
}

const parse = (text: string | null | undefined): OnlineValue => (text == null ? null : (JSON.parse(text) as OnlineValue));

/** An HMGET reply (`_ts:VIEW`, then the requested features) as stored values; null when absent or of another definition. */
function fromFields(reply: (string | null)[], features: string[], gen: number): StoredValues | null {
  const [tsText, ...values] = reply;
  if (tsText == null) return null;
  const [g, ts] = stamp(tsText);
  if (g !== gen) return null;
  const out: Record<string, OnlineValue> = {};
  features.forEach((f, i) => (out[f] = parse(values[i])));
  return { ts, values: out };
}

/** An HGETALL reply as the view's stored values; null when absent or of another definition. */
function fromHash(hash: Record<string, string>, view: string, gen: number): StoredValues | null {
  const tsText = hash[`${TS}${view}`];
  if (tsText === undefined) return null;
  const [g, ts] = stamp(tsText);
  if (g !== gen) return null;
  const prefix = `${view}:`;
  const out: Record<string, OnlineValue> = {};
  for (const [field, value] of Object.entries(hash)) if (field.startsWith(prefix)) out[field.slice(prefix.length)] = parse(value);
  return { ts, values: out };
}
