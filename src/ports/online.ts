/**
 * OnlineStore: the latest feature values per entity key, for low-latency serving. `materialize`
 * (src/features/online) fills it from the offline sources; `getOnlineFeatures` reads it. The embedded adapter is
 * SQLite (src/stores/online/sqlite), the distributed one Redis (src/stores/online/redis); no vendor type appears
 * here, and every adapter must pass src/stores/online/conformance.ts.
 *
 * Contract:
 * - A view is stored under its name, for one definition `version` at a time. Writing a different version drops the
 *   view's rows and watermark first (a changed definition starts over, so old values are never served as new).
 * - A key is the view's join-key values, as strings, in the view's join-key order.
 * - `write` keeps a row only if its `ts` (epoch milliseconds) is newer than the stored row's for that key: replays and
 *   late-arriving older rows never overwrite a newer value. Equal timestamps keep the stored row.
 * - `read` returns one entry per key, in order: `{ ts, values }` or null when the key was never written. It applies no
 *   TTL: expiry is the caller's rule (getOnlineFeatures), so a store never needs the view definition.
 * - The watermark is the event time up to which a view was materialized (for incremental runs).
 * - Feature values are JSON values (strings, numbers, booleans, null); dates are ISO strings.
 * - Errors are BatonErrors: `not_found` for unknown views, `data_invalid` for bad rows, `store` for the backend.
 */

export type OnlineValue = string | number | boolean | null;

export interface OnlineRow {
  /** Join-key values in the view's join-key order. */
  key: string[];
  /** Event time of the values, epoch milliseconds. */
  ts: number;
  values: Record<string, OnlineValue>;
}

export interface StoredValues {
  ts: number;
  values: Record<string, OnlineValue>;
}

export interface ViewState {
  version: string;
  /** Event time (epoch ms) up to which the view was materialized; null when never set. */
  watermark: number | null;
}

export interface OnlineStore {
  /** Where the data lives, for messages: a file path, or a URL with its password hidden. */
  readonly location: string;
  /** Upserts rows, keeping each only if newer than the stored one. Returns how many rows were stored. */
  write(view: string, version: string, rows: OnlineRow[]): Promise<number>;
  /** One result per key, in order; null for keys never written. `features` narrows the values returned. */
  read(view: string, keys: string[][], features?: string[]): Promise<(StoredValues | null)[]>;
  /** The stored version and watermark of a view, or null when the view was never written. */
  watermark(view: string): Promise<ViewState | null>;
  /** Records the watermark (and the version, which resets the view's rows when it differs). */
  setWatermark(view: string, version: string, ts: number): Promise<void>;
  /** Frees the store; later calls fail. Idempotent. */
  close(): Promise<void>;
}
