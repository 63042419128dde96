/**
 * CSV helpers for the DuckDB adapter: guess the delimiter from the header line (so DuckDB's sniffer cannot fall
 * back to reading each whole line as one column when rows are ragged), and find the first ragged row to name it
 * in the error message.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

const CANDIDATES = [',', ';', '\t', '|'];

/** The candidate delimiter that occurs most often outside quotes in the first line; undefined for one column. */
export async function guessDelimiter(path: string): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('utf8');
    const counts = new Map<string, number>(CANDIDATES.map((c) => [c, 0]));
    let quoted = false;
    for (const ch of text) {
      if (ch === '"') quoted = !quoted;
      else if (!quoted && (ch === '\n' || ch === '\r')) break;
      else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
    }
    const [best, n] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
    return n > 0 ? best : undefined;
  } finally {
    await handle.close();
  }
}

export interface RaggedRow {
  /** 1-based line number where the record starts. */
  line: number;
  fields: number;
  expected: number;
}

/**
 * The first record whose field count differs from the header's (RFC 4180 quoting: `""` inside quotes, newlines
 * inside quotes), or an unterminated quote at the end of the file (reported with fields = -1). Reads at most
 * `maxBytes`; undefined when nothing is wrong in that prefix.
 */
export async function findRaggedRow(path: string, delimiter: string, maxBytes = 256 * 1024 * 1024): Promise<RaggedRow | undefined> {
  let expected = -1;
  let fields = 1;
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  let empty = true;
  const end = (): RaggedRow | undefined => {
    if (empty && fields === 1) return undefined; // blank line
    if (expected < 0) expected = fields;
    else if (fields !== expected) return { line: recordLine, fields, expected };
    return undefined;
  };
  for await (const chunk of createReadStream(path, { encoding: 'utf8', end: maxBytes - 1 })) {
    for (const ch of chunk as string) {
      if (ch === '"') {
        quoted = !quoted;
        empty = false;
      } else if (ch === '\n') {
        line++;
        if (!quoted) {
          const bad = end();
          if (bad) return bad;
          fields = 1;
          empty = true;
          recordLine = line;
        }
      } else if (!quoted && ch === delimiter) {
        fields++;
        empty = false;
      } else if (ch !== '\r') empty = false;
    }
  }
  if (quoted) return { line: recordLine, fields: -1, expected };
  return end();
}
