import { RedisReplyError, type Reply } from './backend.ts';

/** A stream entry as ioredis-mock stores it and Redis answers it: id, then its field/value list. */
type Entry = [string, string[]];

interface StreamStore {
  xadd(key: string, ...args: string[]): Promise<unknown>;
  xrange(key: string, start: string, end: string): Promise<unknown>;
  exists(key: string): Promise<number>;
}

/** A stream id as a comparable pair; `-` and `+` are the ends. */
type Id = [number, number];

function parseId(text: string, missingSeq: number): Id {
  if (text === '-') return [Number.NEGATIVE_INFINITY, 0];
  if (text === '+') return [Number.POSITIVE_INFINITY, 0];
  const match = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!match) throw new RedisReplyError('ERR Invalid stream ID specified as stream command argument');
  return [Number(match[1]), match[2] === undefined ? missingSeq : Number(match[2])];
}

const compare = (a: Id, b: Id) => a[0] - b[0] || a[1] - b[1];

/**
 * Stream commands with Redis's semantics over ioredis-mock's storage (so DEL, EXPIRE and scripts'
 * XADD see the same streams). ioredis-mock's own XREAD marks entries as consumed for every later
 * reader, returns one entry per blocking read after a 100 ms poll, and its XADD numbers entries by
 * the stream's length (repeating ids once MAXLEN trims it); the job output relay and the deployment
 * logs need reads from an id (exclusive), every entry since, and ids that only grow.
 */
export function createMemoryStreams(store: StreamStore, pollMs: number) {
  const entries = async (key: string) => ((await store.xrange(key, '-', '+')) ?? []) as Entry[];
  const lastId = async (key: string): Promise<Id> => {
    const last = (await entries(key)).at(-1);
    return last ? parseId(last[0], 0) : [0, 0];
  };

  /** XADD key [NOMKSTREAM] [MAXLEN [=|~] n] * field value…; ids are `<ms>-0`, never reused. */
  const add = async (args: string[]): Promise<Reply> => {
    const [key = ''] = args;
    let at = 1;
    let createStream = true;
    let maxLength: string | undefined;
    for (;;) {
      const word = args[at]?.toUpperCase();
      if (word === 'NOMKSTREAM') {
        createStream = false;
        at += 1;
      } else if (word === 'MAXLEN') {
        at += args[at + 1] === '=' || args[at + 1] === '~' ? 2 : 1;
        maxLength = args[at];
        at += 1;
        if (args[at]?.toUpperCase() === 'LIMIT') at += 2;
      } else if (word === 'MINID') {
        throw new RedisReplyError('ERR XADD MINID is not supported by the in-memory stand-in');
      } else break;
    }
    const id = args[at];
    const fields = args.slice(at + 1);
    if (id === undefined || fields.length === 0 || fields.length % 2 !== 0) {
      throw new RedisReplyError("ERR wrong number of arguments for 'xadd' command");
    }
    if (id !== '*') throw new RedisReplyError('ERR only XADD * is supported by the in-memory stand-in');
    if (!createStream && (await store.exists(key)) === 0) return null;
    // ioredis-mock appends `-0` to the id it is given: a millisecond past the last one keeps ids unique.
    const ms = String(Math.max(Date.now(), (await lastId(key))[0] + 1));
    const trim = maxLength === undefined ? [] : ['MAXLEN', '=', maxLength];
    return String(await store.xadd(key, ...trim, ms, ...fields));
  };

  /** XRANGE key start end [COUNT n] (XREVRANGE key end start …), `(` for an exclusive bound. */
  const range = async (args: string[], reverse: boolean): Promise<Reply> => {
    const [key = '', first = '', second = '', countWord, countText] = args;
    const [startText, endText] = reverse ? [second, first] : [first, second];
    const bound = (text: string, missingSeq: number) => {
      const exclusive = text.startsWith('(');
      return { id: parseId(exclusive ? text.slice(1) : text, missingSeq), exclusive };
    };
    const start = bound(startText, 0);
    const end = bound(endText, Number.MAX_SAFE_INTEGER);
    const count = countWord?.toUpperCase() === 'COUNT' ? Number(countText) : Number.POSITIVE_INFINITY;
    const inRange = (entry: Entry) => {
      const id = parseId(entry[0], 0);
      const fromStart = compare(id, start.id);
      const toEnd = compare(id, end.id);
      return (start.exclusive ? fromStart > 0 : fromStart >= 0) && (end.exclusive ? toEnd < 0 : toEnd <= 0);
    };
    const selected = (await entries(key)).filter(inRange);
    if (reverse) selected.reverse();
    return selected.slice(0, count);
  };

  /**
   * XREAD [COUNT n] [BLOCK ms] STREAMS key… id…: entries after each id, waiting up to BLOCK for any
   * (inside a transaction, `mayBlock` false, it answers at once as Redis does). `locked` runs each look.
   */
  const read = async (
    args: string[],
    locked: <T>(work: () => Promise<T>) => Promise<T>,
    mayBlock = true,
  ): Promise<Reply> => {
    let count = Number.POSITIVE_INFINITY;
    let blockMs: number | null = null;
    let at = 0;
    for (;;) {
      const word = args[at]?.toUpperCase();
      if (word === 'COUNT') count = Number(args[at + 1]);
      else if (word === 'BLOCK') blockMs = mayBlock ? Number(args[at + 1]) : null;
      else break;
      at += 2;
    }
    if (args[at]?.toUpperCase() !== 'STREAMS') throw new RedisReplyError('ERR syntax error');
    const rest = args.slice(at + 1);
    if (rest.length === 0 || rest.length % 2 !== 0) {
      throw new RedisReplyError(
        "ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.",
      );
    }
    const keys = rest.slice(0, rest.length / 2);
    const after = await locked(() =>
      Promise.all(
        rest
          .slice(rest.length / 2)
          .map((text, index) =>
            text === '$' ? lastId(keys[index] ?? '') : Promise.resolve(parseId(text, 0)),
          ),
      ),
    );
    const attempt = async (): Promise<Reply> => {
      const found: Reply[] = [];
      for (const [index, key] of keys.entries()) {
        const since = after[index] ?? [0, 0];
        const fresh = (await entries(key)).filter((entry) => compare(parseId(entry[0], 0), since) > 0);
        if (fresh.length > 0) found.push([key, fresh.slice(0, count)]);
      }
      return found.length > 0 ? found : null;
    };
    const deadline = blockMs === 0 ? Number.POSITIVE_INFINITY : Date.now() + (blockMs ?? 0);
    for (;;) {
      const reply = await locked(attempt);
      if (reply !== null || blockMs === null || Date.now() >= deadline) return reply;
      await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, deadline - Date.now())));
    }
  };

  return { add, range, read };
}
