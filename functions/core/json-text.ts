/** Deeper than any real request; deep enough nesting exhausts the stack of whatever serializes it next. */
export const MAX_JSON_DEPTH = 100;

const isHigh = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
const isLow = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;

/** The UTF-16 unit a `\uXXXX` escape starting at `at` (the backslash) stands for, or -1. */
function escapedUnit(text: string, at: number): number {
  if (text[at] !== '\\' || text[at + 1] !== 'u') return -1;
  const hex = text.slice(at + 2, at + 6);
  return /^[0-9a-fA-F]{4}$/.test(hex) ? Number.parseInt(hex, 16) : -1;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');
const unstorableText = (text: string) => text.includes('\u0000') || LONE_SURROGATE.test(text);
const storableText = (text: string) =>
  unstorableText(text) ? text.replaceAll('\u0000', '\ufffd').replace(LONE_SURROGATES, '\ufffd') : text;

/**
 * The keys (outermost first) leading to the first key or string in `value` no store can keep, or null.
 * Reads without copying: most values it sees (a model's output, an embeddings array) hold nothing.
 */
function unstorableAt(value: unknown, depthLeft: number): string[] | null {
  if (typeof value === 'string') return unstorableText(value) ? [] : null;
  if (value === null || typeof value !== 'object' || depthLeft < 0) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorableAt(value[i], depthLeft - 1);
      if (found) return [String(i), ...found];
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    if (unstorableText(key)) return [key];
    const found = unstorableAt(item, depthLeft - 1);
    if (found) return [key, ...found];
  }
  return null;
}

function repaired(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(repaired);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [storableText(key), repaired(item)]));
}

/**
 * `value` with every NUL and lone surrogate in its strings and keys replaced by U+FFFD, for what must
 * be kept whatever it holds (a model's output): Postgres refuses both in text and jsonb. Copied only
 * when something needs replacing.
 */
export function storableJson(value: unknown): unknown {
  return unstorableAt(value, Number.POSITIVE_INFINITY) === null ? value : repaired(value);
}

/** Whether `value` nests arrays and objects deeper than `max` (the outermost is level 1), found without recursion. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [object, number][] = value !== null && typeof value === 'object' ? [[value, 1]] : [];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [object, number];
    if (depth > max) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

export interface JsonTextProblem {
  message: string;
  /** The field at fault, as validation errors name it; null for the body as a whole. */
  param: string | null;
}

/**
 * What in a JSON text no store downstream can keep, found in one pass before it is parsed: NUL
 * characters and unpaired surrogates (Postgres text and jsonb refuse both, and a model server chokes on
 * them) and nesting deeper than `maxDepth`. Only escapes need looking at: JSON allows no raw control
 * character in a string, and decoded UTF-8 holds no lone surrogate. Only when something is found is
 * the text parsed, to name the field.
 */
export function jsonTextProblem(text: string, maxDepth = MAX_JSON_DEPTH): JsonTextProblem | null {
  const unstorable = (what: string): JsonTextProblem => {
    let param: string | null = null;
    try {
      param = unstorableAt(JSON.parse(text), maxDepth)?.join('.') || null;
    } catch {
      // Malformed JSON: the route's parser says so in its own words.
    }
    return { message: `contains ${what}`, param };
  };
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x22 /* " */) inString = false;
      else if (char === 0x5c /* \ */) {
        const unit = escapedUnit(text, i);
        if (unit === 0) return unstorable('a NUL character (\\u0000)');
        if (isLow(unit)) return unstorable('an unpaired surrogate escape');
        if (isHigh(unit)) {
          if (!isLow(escapedUnit(text, i + 6))) return unstorable('an unpaired surrogate escape');
          i += 6;
        }
        // Whatever the escape, the character after the backslash is not a closing quote.
        i += unit === -1 ? 1 : 5;
      }
    } else if (char === 0x22) inString = true;
    else if (char === 0x5b /* [ */ || char === 0x7b /* { */) {
      if (++depth > maxDepth) return { message: `nests deeper than ${maxDepth} levels`, param: null };
    } else if (char === 0x5d /* ] */ || char === 0x7d /* } */) depth--;
  }
  return null;
}
