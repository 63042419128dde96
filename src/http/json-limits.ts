/**
 * Depth and key-count limits of a JSON body, checked on the text before JSON.parse by one iterative scan (never
 * recursion): a body nested 5,000 levels deep is refused with 400 here, so neither the parser, nor a handler
 * walking the value, nor the encoder echoing part of it back can overflow the stack.
 */
import { HttpError } from './errors.ts';

export interface JsonLimits {
  /** Objects and arrays open at once. @default 64 */
  maxDepth: number;
  /** Object members in the whole body. @default 10_000 */
  maxKeys: number;
}

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/** Throws a 400 HttpError naming the offset where the body goes over a limit. Malformed JSON is left to JSON.parse. */
export function checkJsonLimits(text: string, limits: JsonLimits): void {
  let depth = 0;
  let keys = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > limits.maxDepth) {
        throw new HttpError(400, 'data_invalid', `The JSON body nests objects and arrays more than ${limits.maxDepth} levels deep (at offset ${i}).`, `Send a flatter body: at most ${limits.maxDepth} levels of nesting.`);
      }
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
    else if (c === COLON && ++keys > limits.maxKeys) {
      throw new HttpError(400, 'data_invalid', `The JSON body has more than ${limits.maxKeys} object keys (at offset ${i}).`, `Send fewer keys per request (at most ${limits.maxKeys}); split a large request into several.`);
    }
  }
}
