/**
 * The little a SQL dialect adapter must provide: run statements inside one transaction, and query. SQL is written
 * once with `?` placeholders; the PostgreSQL driver rewrites them to `$n`. Adapters own their connections: no
 * connection or transaction type leaves this folder.
 */

export type SqlValue = string | number | bigint | null | Buffer;
export type Row = Record<string, unknown>;

export interface Statement {
  sql: string;
  params: SqlValue[];
  /** Run only if the previous statement without a condition changed at least one row (true) or none (false). */
  onlyIf?: boolean;
  /** This statement's changed-row count decides the mutation's result. */
  decides?: boolean;
}

export interface SqlDriver {
  readonly dialect: 'sqlite' | 'postgres';
  readonly url: string;
  /**
   * Runs groups of statements in one transaction. Each group is one mutation; the result per group is whether its
   * deciding statement (or, without one, its first) changed rows.
   */
  transaction(groups: Iterable<Statement>[]): Promise<boolean[]>;
  query(sql: string, params?: SqlValue[]): Promise<Row[]>;
  /**
   * Runs migrations in one transaction under a lock held against other migrators: creates the bookkeeping table
   * `ddl`, reads the applied versions with `readApplied`, and runs what `plan` returns for them.
   */
  migrate(ddl: string, readApplied: string, plan: (applied: Set<number>) => Statement[]): Promise<void>;
  close(): Promise<void>;
}

/** Runs one group against a per-statement executor returning changed-row counts (PostgreSQL driver). */
export async function runGroup(group: Iterable<Statement>, exec: (s: Statement) => Promise<number>): Promise<boolean> {
  let last = true;
  let decided: boolean | undefined;
  for (const s of group) {
    if (s.onlyIf !== undefined && s.onlyIf !== last) continue;
    const changed = await exec(s);
    if (s.onlyIf === undefined) last = changed > 0;
    if (s.decides) decided = changed > 0;
    else if (decided === undefined) decided = changed > 0;
  }
  return decided ?? true;
}

/** Synchronous twin of runGroup for better-sqlite3 (a sync transaction must not await). */
export function runGroupSync(group: Iterable<Statement>, exec: (s: Statement) => number): boolean {
  let last = true;
  let decided: boolean | undefined;
  for (const s of group) {
    if (s.onlyIf !== undefined && s.onlyIf !== last) continue;
    const changed = exec(s);
    if (s.onlyIf === undefined) last = changed > 0;
    if (s.decides) decided = changed > 0;
    else if (decided === undefined) decided = changed > 0;
  }
  return decided ?? true;
}
