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

/**
 * What in a JSON text no store downstream can keep, found in one pass before it is parsed: NUL
 * characters and unpaired surrogates (Postgres text and jsonb refuse both, and a model server chokes on
 * them) and nesting deeper than `maxDepth`. Only escapes need looking at: JSON allows neither a raw
 * control character in a string, and decoded UTF-8 holds no lone surrogate. Answers why, or null.
 */
export function jsonTextProblem(text: string, maxDepth = MAX_JSON_DEPTH): string | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x22 /* " */) inString = false;
      else if (char === 0x5c /* \ */) {
        const unit = escapedUnit(text, i);
        if (unit === 0) return 'contains a NUL character (\\u0000)';
        if (isLow(unit)) return 'contains an unpaired surrogate escape';
        if (isHigh(unit)) {
          if (!isLow(escapedUnit(text, i + 6))) return 'contains an unpaired surrogate escape';
          i += 6;
        }
        // Whatever the escape, the character after the backslash is not a closing quote.
        i += unit === -1 ? 1 : 5;
      }
    } else if (char === 0x22) inString = true;
    else if (char === 0x5b /* [ */ || char === 0x7b /* { */) {
      if (++depth > maxDepth) return `nests deeper than ${maxDepth} levels`;
    } else if (char === 0x5d /* ] */ || char === 0x7d /* } */) depth--;
  }
  return null;
}
