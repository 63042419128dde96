/**
 * Recursive-descent parser of the run-search filter language and of order-by specs.
 *
 * Hand-written, no parser library: the grammar is tiny (below), a library would be a dependency for a dozen rules,
 * and hand-written code knows the exact offset of every token, so each error can show a caret under the mistake
 * and say what was expected there.
 *
 *   filter    := or EOF                      (an empty filter matches every run: parseFilter returns null)
 *   or        := and (OR and)*
 *   and       := not (AND not)*
 *   not       := NOT not | primary
 *   primary   := '(' or ')' | condition
 *   condition := key ( cmpop value
 *                    | [NOT] (LIKE | ILIKE) string
 *                    | [NOT] IN '(' value (',' value)* ')'
 *                    | IS [NOT] NULL )
 *   key       := (metrics | params | tags | attributes) '.' name
 *   name      := word | `back quoted` | 'quoted' | "quoted"
 *   cmpop     := = | == | != | <> | < | <= | > | >=
 *   value     := number | 'string' | "string" | TRUE | FALSE
 *   orderBy   := key [ASC | DESC] (',' key [ASC | DESC])*
 *
 * Keywords are case-insensitive. Type rules are checked here too, so they get positions: metrics compare with
 * numbers; LIKE/ILIKE apply to params, tags and text attributes; <, <=, >, >= need a number (or, for start_time and
 * end_time, an ISO date string, converted to epoch ms); true/false compare params and tags with = and != only.
 *
 * Size is bounded (limits.ts): the text's length, how deep parentheses and NOTs nest, how many conditions there are.
 * The recursion below never goes deeper than FILTER_LIMITS.maxDepth levels, so no filter can overflow the stack.
 */
import { ATTRIBUTES, NUMERIC_ATTRIBUTES, TIME_ATTRIBUTES, type Attribute, type CompareOp, type Expr, type Key, type KeyKind, type Literal, type OrderTerm } from './ast.ts';
import { FilterSyntaxError, tokenize, type Token } from './lexer.ts';
import { FILTER_LIMITS } from './limits.ts';

const KINDS: readonly KeyKind[] = ['metrics', 'params', 'tags', 'attributes'];
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'null', 'like', 'ilike', 'true', 'false', 'asc', 'desc']);
const ATTRIBUTE_ALIASES: Record<string, Attribute> = { id: 'run_id', run_name: 'name', experiment_id: 'experiment' };

/** Parses a filter; returns null for an empty (all-whitespace) filter. Throws FilterSyntaxError ('usage'). */
export function parseFilter(source: string): Expr | null {
  const p = new Parser(source, 'filter');
  if (p.peek().type === 'eof') return null;
  const expr = p.parseOr();
  p.expectEnd();
  return expr;
}

/** Parses `metrics.auc DESC, attributes.start_time`; an empty spec gives []. Throws FilterSyntaxError ('usage'). */
export function parseOrderBy(source: string): OrderTerm[] {
  const p = new Parser(source, 'order-by');
  const out: OrderTerm[] = [];
  if (p.peek().type === 'eof') return out;
  for (;;) {
    const key = p.parseKey();
    let desc = false;
    const t = p.peek();
    if (p.isWord(t, 'desc') || p.isWord(t, 'asc')) {
      desc = p.isWord(t, 'desc');
      p.next();
    }
    out.push({ key, desc });
    const after = p.peek();
    if (after.type === 'eof') return out;
    if (after.type !== ',') p.fail(after.pos, `expected ',', ASC, DESC or end of order-by at position ${after.pos}, found ${describe(after)}`);
    p.next();
  }
}

class Parser {
  private readonly tokens: Token[];
  private i = 0;
  /** Parentheses and NOTs open right now. */
  private depth = 0;
  private conditions = 0;

  constructor(
    private readonly source: string,
    private readonly what: string,
  ) {
    const max = FILTER_LIMITS.maxLength;
    if (source.length > max) {
      throw new FilterSyntaxError(source, max, `the ${what} is ${source.length} characters long, over the limit of ${max} at position ${max} — use IN (…) for many values of one key, or split the search`, what);
    }
    this.tokens = tokenize(source, what);
  }

  /** Enters a level of parentheses or NOT opened by `t`; fails past FILTER_LIMITS.maxDepth. */
  private enter(t: Token): void {
    if (++this.depth > FILTER_LIMITS.maxDepth) {
      this.fail(t.pos, `parentheses and NOTs nest more than ${FILTER_LIMITS.maxDepth} deep at position ${t.pos} — flatten the filter (a list of ORs, or IN (…))`);
    }
  }

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }
  next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }
  isWord(t: Token, word: string): boolean {
    return t.type === 'word' && t.text.toLowerCase() === word;
  }
  fail(pos: number, reason: string): never {
    throw new FilterSyntaxError(this.source, pos, reason, this.what);
  }

  expectEnd(): void {
    const t = this.peek();
    if (t.type === 'eof') return;
    if (t.type === ')') this.fail(t.pos, `unexpected ')' at position ${t.pos}: no '(' is open`);
    this.fail(t.pos, `expected AND, OR or end of filter at position ${t.pos}, found ${describe(t)}`);
  }

  parseOr(): Expr {
    const items = [this.parseAnd()];
    while (this.isWord(this.peek(), 'or')) {
      this.next();
      items.push(this.parseAnd());
    }
    return items.length === 1 ? items[0]! : { type: 'or', items };
  }

  parseAnd(): Expr {
    const items = [this.parseNot()];
    while (this.isWord(this.peek(), 'and')) {
      this.next();
      items.push(this.parseNot());
    }
    return items.length === 1 ? items[0]! : { type: 'and', items };
  }

  parseNot(): Expr {
    if (this.isWord(this.peek(), 'not')) {
      this.enter(this.next());
      const expr = this.parseNot();
      this.depth--;
      return { type: 'not', expr };
    }
    return this.parsePrimary();
  }

  parsePrimary(): Expr {
    const t = this.peek();
    if (t.type === '(') {
      this.enter(this.next());
      if (this.peek().type === ')') this.fail(this.peek().pos, `expected a condition inside the parentheses at position ${this.peek().pos}`);
      const inner = this.parseOr();
      const close = this.peek();
      // Nested groups close innermost first, so the one still open at the end is reported where it was opened.
      if (close.type === 'eof') this.fail(t.pos, `unclosed parenthesis opened at position ${t.pos}`);
      if (close.type !== ')') this.fail(close.pos, `expected AND, OR or ')' at position ${close.pos}, found ${describe(close)}`);
      this.next();
      this.depth--;
      return inner;
    }
    return this.parseCondition();
  }

  parseKey(): Key {
    const t = this.next();
    if (t.type === 'eof') this.fail(t.pos, `expected a key like metrics.auc at position ${t.pos}, found end of ${this.what}`);
    if (t.type !== 'word' || KEYWORDS.has(t.text.toLowerCase())) {
      this.fail(t.pos, `expected a key like metrics.auc at position ${t.pos}, found ${describe(t)}`);
    }
    const prefix = t.text.toLowerCase();
    if (!(KINDS as readonly string[]).includes(prefix)) {
      if (this.peek().type !== '.') {
        this.fail(t.pos, `expected a prefixed key like metrics.${t.text} at position ${t.pos}, found "${t.text}" — keys start with metrics., params., tags. or attributes.`);
      }
      const guess = closest(prefix, KINDS);
      this.fail(t.pos, `unknown prefix "${t.text}"${guess ? ` — did you mean "${guess}"?` : ''} (position ${t.pos}; keys start with metrics., params., tags. or attributes.)`);
    }
    const kind = prefix as KeyKind;
    const dot = this.next();
    if (dot.type !== '.') this.fail(dot.pos, `expected '.' after "${t.text}" at position ${dot.pos}, as in ${kind}.name`);
    const n = this.next();
    if (n.type !== 'word' && n.type !== 'quoted_name' && n.type !== 'string') {
      this.fail(n.pos, `expected a name after '${kind}.' at position ${n.pos}, found ${describe(n)}`);
    }
    if (n.type === 'word' && this.peek().type === '.' && this.peek().pos === n.end) {
      const rest = this.peek(1);
      const whole = this.source.slice(t.pos, rest.type === 'word' ? rest.end : this.peek().end);
      this.fail(this.peek().pos, `a name containing '.' must be backquoted at position ${this.peek().pos}: write ${kind}.\`${whole.slice(kind.length + 1)}\``);
    }
    if (n.text === '') this.fail(n.pos, `empty name after '${kind}.' at position ${n.pos}`);
    let name = n.text;
    if (kind === 'attributes') {
      const lower = name.toLowerCase();
      const attr = ATTRIBUTE_ALIASES[lower] ?? (ATTRIBUTES as readonly string[]).find((a) => a === lower);
      if (attr === undefined) {
        const guess = closest(lower, ATTRIBUTES);
        this.fail(n.pos, `unknown attribute "${name}"${guess ? ` — did you mean "${guess}"?` : ''} (position ${n.pos}; known: ${ATTRIBUTES.join(', ')})`);
      }
      name = attr;
    }
    return { kind, name, pos: t.pos };
  }

  parseCondition(): Expr {
    const first = this.peek();
    if (++this.conditions > FILTER_LIMITS.maxConditions) {
      this.fail(first.pos, `more than ${FILTER_LIMITS.maxConditions} conditions: the one at position ${first.pos} is over the limit — use IN (…) for many values of one key, or split the search`);
    }
    const key = this.parseKey();
    const opTok = this.peek();
    const label = this.source.slice(key.pos, opTok.pos).trim();
    if (opTok.type === 'op') {
      this.next();
      const value = this.parseValue(opTok);
      const op = opTok.text as CompareOp;
      return { type: 'compare', key, op, value: this.checkCompare(key, op, value, opTok), pos: opTok.pos };
    }
    let negated = false;
    if (this.isWord(opTok, 'not')) {
      const after = this.peek(1);
      if (!this.isWord(after, 'in') && !this.isWord(after, 'like') && !this.isWord(after, 'ilike')) {
        this.fail(after.pos, `expected IN, LIKE or ILIKE after NOT at position ${after.pos}, found ${describe(after)}`);
      }
      this.next();
      negated = true;
    }
    const kw = this.peek();
    if (this.isWord(kw, 'like') || this.isWord(kw, 'ilike')) {
      this.next();
      const op = kw.text.toLowerCase() as 'like' | 'ilike';
      const v = this.peek();
      if (v.type !== 'string') this.fail(v.pos, `expected a quoted pattern after ${kw.text.toUpperCase()} at position ${v.pos}, found ${describe(v)}`);
      this.next();
      if (/(^|[^\\])(\\\\)*\\$/.test(v.text)) this.fail(v.pos, `the pattern at position ${v.pos} ends with a lone escape character (a backslash escapes the next character of a LIKE pattern)`);
      if (!this.isText(key)) this.fail(kw.pos, `${kw.text.toUpperCase()} applies to params, tags and text attributes, not ${label} (position ${kw.pos})`);
      return { type: 'like', key, op, negated, pattern: v.text, pos: kw.pos };
    }
    if (this.isWord(kw, 'in')) {
      this.next();
      const lp = this.next();
      if (lp.type !== '(') this.fail(lp.pos, `expected '(' after IN at position ${lp.pos}, as in IN ('a', 'b')`);
      const values: Literal[] = [];
      for (;;) {
        const v = this.peek();
        if (v.type === ')' && values.length === 0) this.fail(v.pos, `expected a value in the IN list at position ${v.pos}: the list is empty`);
        const value = this.parseValue(values.length === 0 ? lp : this.tokens[this.i - 1]!);
        if (typeof value === 'boolean') this.fail(v.pos, `true/false are not allowed in an IN list (position ${v.pos}) — use = true or = false`);
        if (values.length > 0 && typeof value !== typeof values[0]) {
          this.fail(v.pos, `an IN list holds only numbers or only strings: found ${describe(v)} at position ${v.pos} after ${typeof values[0] === 'number' ? 'numbers' : 'strings'}`);
        }
        values.push(this.checkCompare(key, '=', value, v));
        const sep = this.next();
        if (sep.type === ')') break;
        if (sep.type === 'eof') this.fail(lp.pos, `unclosed IN list opened at position ${lp.pos}`);
        if (sep.type !== ',') this.fail(sep.pos, `expected ',' or ')' in the IN list at position ${sep.pos}, found ${describe(sep)}`);
      }
      return { type: 'in', key, negated, values, pos: kw.pos };
    }
    if (this.isWord(kw, 'is')) {
      this.next();
      let neg = false;
      if (this.isWord(this.peek(), 'not')) {
        this.next();
        neg = true;
      }
      const n = this.next();
      if (!this.isWord(n, 'null')) this.fail(n.pos, `expected NULL after IS${neg ? ' NOT' : ''} at position ${n.pos}, found ${describe(n)}`);
      return { type: 'null', key, negated: neg, pos: kw.pos };
    }
    if (kw.type === 'eof') this.fail(kw.pos, `expected an operator after ${label} at position ${kw.pos} (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL)`);
    return this.fail(kw.pos, `expected an operator after ${label} at position ${kw.pos}, found ${describe(kw)} (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL)`);
  }

  private parseValue(after: Token): Literal {
    const v = this.peek();
    const what = after.type === 'op' ? `'${after.text}'` : after.type === '(' ? 'IN (' : `'${after.text}'`;
    if (v.type === 'number') {
      this.next();
      return v.num!;
    }
    if (v.type === 'string') {
      this.next();
      return v.text;
    }
    if (this.isWord(v, 'true') || this.isWord(v, 'false')) {
      this.next();
      return v.text.toLowerCase() === 'true';
    }
    if (v.type === 'eof') this.fail(v.pos, `expected a value after ${what} at position ${v.pos}`);
    if (v.type === 'word' && !KEYWORDS.has(v.text.toLowerCase())) {
      this.fail(v.pos, `expected a value after ${what} at position ${v.pos}, found ${describe(v)} — quote text values: '${v.text}'`);
    }
    return this.fail(v.pos, `expected a value after ${what} at position ${v.pos}, found ${describe(v)}`);
  }

  private isText(key: Key): boolean {
    if (key.kind === 'params' || key.kind === 'tags') return true;
    return key.kind === 'attributes' && !NUMERIC_ATTRIBUTES.has(key.name as Attribute);
  }

  /** Type rules of a comparison (also for each IN value, with op '='); returns the value to keep. */
  private checkCompare(key: Key, op: CompareOp, value: Literal, at: Token): Literal {
    const vt = this.tokens[this.i - 1]!;
    const label = this.source.slice(key.pos, at.pos).trim() || `${key.kind}.${key.name}`;
    const ordered = op !== '=' && op !== '!=';
    if (key.kind === 'metrics') {
      if (typeof value !== 'number') this.fail(vt.pos, `metrics compare with numbers: expected a number at position ${vt.pos}, found ${describe(vt)}`);
      return value;
    }
    if (key.kind === 'attributes') {
      const attr = key.name as Attribute;
      if (NUMERIC_ATTRIBUTES.has(attr)) {
        if (typeof value === 'number') return value;
        if (typeof value === 'string' && TIME_ATTRIBUTES.has(attr)) {
          const ms = Date.parse(value);
          if (Number.isNaN(ms)) this.fail(vt.pos, `expected epoch milliseconds or an ISO date for ${label} at position ${vt.pos}, found ${describe(vt)}`);
          return ms;
        }
        this.fail(vt.pos, `${label} compares with numbers${TIME_ATTRIBUTES.has(attr) ? ' (epoch ms) or ISO dates' : ' (ms)'}: found ${describe(vt)} at position ${vt.pos}`);
      }
      if (typeof value !== 'string') this.fail(vt.pos, `${label} compares with quoted text: found ${describe(vt)} at position ${vt.pos}`);
      if (ordered) this.fail(at.pos, `'${op}' needs a number; ${label} holds text (position ${at.pos}) — use =, !=, IN or LIKE`);
      return value;
    }
    // params and tags
    if (typeof value === 'boolean' && ordered) this.fail(at.pos, `'${op}' does not apply to true/false (position ${at.pos})`);
    if (typeof value === 'string' && ordered) {
      const hint = /^\s*-?[\d.]/.test(value) && Number.isFinite(Number(value)) ? ` — drop the quotes: ${label} ${op} ${value.trim()}` : '';
      this.fail(vt.pos, `'${op}' needs a number at position ${vt.pos}, found ${describe(vt)}${hint}`);
    }
    return value;
  }
}

function describe(t: Token): string {
  switch (t.type) {
    case 'eof':
      return 'end of input';
    case 'string':
      return `the string ${JSON.stringify(t.text)}`;
    case 'quoted_name':
      return `\`${t.text}\``;
    case 'number':
      return `the number ${t.text}`;
    case 'word':
      return KEYWORDS.has(t.text.toLowerCase()) ? t.text.toUpperCase() : `"${t.text}"`;
    default:
      return `'${t.text}'`;
  }
}

/** The candidate within edit distance 2 (and under half the word's length), if any. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.min(2, Math.ceil(word.length / 2)) ? best : undefined;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length]!;
}
