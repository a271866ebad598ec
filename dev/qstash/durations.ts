const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `10s`, `5m`, `1h`, `2d` (and a bare number of seconds) → milliseconds; null when malformed. */
export function parseDuration(value: string): number | null {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) return null;
  return Number(match[1]) * (UNIT_MS[match[2] ?? 's'] ?? 1_000);
}

/**
 * QStash's `Upstash-Retry-Delay` is an arithmetic expression of `retried` (e.g. `pow(2, retried) * 1000`)
 * giving milliseconds. This is a small recursive-descent evaluator for + - * / ( ), numbers, `retried`
 * and the functions QStash documents; it never runs code.
 */
export function evaluateRetryDelay(expression: string, retried: number): number {
  const tokens = expression.match(/\d+(?:\.\d+)?|[A-Za-z_]+|[-+*/(),]/g) ?? [];
  if (tokens.join('') !== expression.replace(/\s+/g, ''))
    throw new Error(`invalid retry delay: ${expression}`);
  let position = 0;
  const peek = () => tokens[position];
  const take = (expected?: string) => {
    const token = tokens[position++];
    if (token === undefined || (expected !== undefined && token !== expected)) {
      throw new Error(`invalid retry delay: ${expression}`);
    }
    return token;
  };
  const functions: Record<string, (...args: number[]) => number> = {
    pow: Math.pow,
    sqrt: Math.sqrt,
    abs: Math.abs,
    exp: Math.exp,
    floor: Math.floor,
    ceil: Math.ceil,
    round: Math.round,
    min: Math.min,
    max: Math.max,
  };
  const primary = (): number => {
    const token = take();
    if (token === '(') {
      const value = sum();
      take(')');
      return value;
    }
    if (token === '-') return -primary();
    if (/^\d/.test(token)) return Number(token);
    if (token === 'retried') return retried;
    const fn = functions[token];
    if (!fn) throw new Error(`invalid retry delay: unknown name ${token}`);
    take('(');
    const args = [sum()];
    while (peek() === ',') {
      take(',');
      args.push(sum());
    }
    take(')');
    return fn(...args);
  };
  const product = (): number => {
    let value = primary();
    while (peek() === '*' || peek() === '/') value = take() === '*' ? value * primary() : value / primary();
    return value;
  };
  const sum = (): number => {
    let value = product();
    while (peek() === '+' || peek() === '-') value = take() === '+' ? value + product() : value - product();
    return value;
  };
  const value = sum();
  if (position !== tokens.length || !Number.isFinite(value))
    throw new Error(`invalid retry delay: ${expression}`);
  return Math.max(0, value);
}

/** QStash's default backoff: e^(2.5·retried) seconds, capped at a day. */
export function defaultRetryDelayMs(retried: number): number {
  return Math.min(86_400_000, Math.exp(2.5 * retried) * 1_000);
}
