/**
 * Tokens of the run-search filter language. Hand-written (as is the parser) rather than generated: the grammar is a
 * dozen rules, and a hand-written scanner keeps the exact offset of every token so errors can point at the mistake.
 */
import { BatonError } from '../../errors.ts';

export type TokenType = 'word' | 'quoted_name' | 'string' | 'number' | 'op' | '(' | ')' | ',' | '.' | 'eof';

export interface Token {
  type: TokenType;
  /** Words keep their spelling; strings and quoted names their unescaped value; ops their canonical form. */
  text: string;
  /** Numbers only. */
  num?: number;
  /** 0-based offset of the first character, and one past the last. */
  pos: number;
  end: number;
}

/** A malformed filter or order-by: a 'usage' BatonError whose message shows the text with a caret at `position`. */
export class FilterSyntaxError extends BatonError {
  override readonly name = 'FilterSyntaxError';
  constructor(
    readonly source: string,
    readonly position: number,
    readonly reason: string,
    what = 'filter',
  ) {
    super('usage', formatError(source, position, reason, what));
  }
}

/** Characters of the filter shown around the caret; a longer filter is cut to a window with … on either side. */
const WINDOW = 100;

function formatError(source: string, position: number, reason: string, what: string): string {
  // Keep offsets aligned: control characters (newlines, tabs) print as one space each.
  let shown = Array.from(source.split(''), (c) => (c.charCodeAt(0) < 32 ? ' ' : c)).join('');
  let caret = Math.min(position, shown.length);
  if (shown.length > WINDOW) {
    const start = Math.max(0, Math.min(caret - WINDOW / 2, shown.length - WINDOW));
    const head = start > 0 ? '…' : '';
    shown = head + shown.slice(start, start + WINDOW) + (start + WINDOW < shown.length ? '…' : '');
    caret = caret - start + head.length;
  }
  return `invalid ${what}: ${reason}\n  ${shown}\n  ${' '.repeat(caret)}^`;
}

const WORD_START = /[A-Za-z_]/;
const WORD_PART = /[A-Za-z0-9_]/;
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?/y;
// `\%` and `\_` keep their backslash: LIKE reads them as a literal % or _ (elsewhere they are just two characters).
const ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', '0': '\0', '%': '\\%', _: '\\_' };

export function tokenize(source: string, what = 'filter'): Token[] {
  const fail = (pos: number, reason: string): never => {
    throw new FilterSyntaxError(source, pos, reason, what);
  };
  const out: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    // Right after `prefix.` a name may start with a digit (params.1st_lr), as MLflow users expect.
    const afterDot = out.length >= 2 && out[out.length - 1]!.type === '.' && out[out.length - 1]!.end === i;
    if (WORD_START.test(c) || (afterDot && WORD_PART.test(c))) {
      while (i < source.length && WORD_PART.test(source[i]!)) i++;
      out.push({ type: 'word', text: source.slice(start, i), pos: start, end: i });
      continue;
    }
    NUMBER.lastIndex = i;
    const prev = out[out.length - 1];
    const dotOfName = c === '.' && prev !== undefined && (prev.type === 'word' || prev.type === 'quoted_name') && prev.end === i;
    const m = !dotOfName && /[-.\d]/.test(c) ? NUMBER.exec(source) : null;
    if (m) {
      i += m[0].length;
      if (i < source.length && WORD_PART.test(source[i]!)) fail(start, `malformed number "${source.slice(start, i + 1)}" at position ${start}`);
      out.push({ type: 'number', text: m[0], num: Number(m[0]), pos: start, end: i });
      continue;
    }
    if (c === "'" || c === '"') {
      // Backslash escapes, or the SQL way: a doubled quote. `\%` and `\_` stay escaped for LIKE patterns.
      let value = '';
      i++;
      for (;;) {
        if (i >= source.length) fail(start, `unterminated string opened at position ${start}`);
        const d = source[i]!;
        if (d === c) {
          if (source[i + 1] === c) {
            value += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (d === '\\') {
          const e = source[i + 1];
          if (e === undefined) fail(start, `unterminated string opened at position ${start}`);
          const r = ESCAPES[e!];
          if (r === undefined) fail(i, `unknown escape "\\${e}" at position ${i} (use \\\\ \\' \\" \\n \\t \\r \\% \\_)`);
          value += r;
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      out.push({ type: 'string', text: value, pos: start, end: i });
      continue;
    }
    if (c === '`') {
      let value = '';
      i++;
      for (;;) {
        if (i >= source.length) fail(start, `unterminated backquoted name opened at position ${start}`);
        if (source[i] === '`') {
          if (source[i + 1] === '`') {
            value += '`';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += source[i];
        i++;
      }
      out.push({ type: 'quoted_name', text: value, pos: start, end: i });
      continue;
    }
    const two = source.slice(i, i + 2);
    if (two === '!=' || two === '<>' || two === '<=' || two === '>=' || two === '==') {
      out.push({ type: 'op', text: two === '<>' ? '!=' : two === '==' ? '=' : two, pos: start, end: i + 2 });
      i += 2;
      continue;
    }
    if (c === '=' || c === '<' || c === '>') {
      out.push({ type: 'op', text: c, pos: start, end: ++i });
      continue;
    }
    if (c === '(' || c === ')' || c === ',' || c === '.') {
      out.push({ type: c, text: c, pos: start, end: ++i });
      continue;
    }
    fail(start, `unexpected character "${c}" at position ${start}`);
  }
  out.push({ type: 'eof', text: '', pos: source.length, end: source.length });
  return out;
}
