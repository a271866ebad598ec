import { createHash } from 'node:crypto';

const sha1 = (source: string) => createHash('sha1').update(source).digest('hex');

/** Shebang flags Upstash accepts that open-source Redis refuses (e.g. @upstash/ratelimit's scripts). */
const UPSTASH_ONLY_FLAGS = new Set(['allow-key-locking']);

/**
 * Makes Upstash-flavoured Lua run on the backend: drops flags the backend does not know and keeps a map
 * from the client's SHA (of the script it sent) to the SHA of what the backend actually loaded, so
 * EVALSHA keeps working for the client.
 */
export class ScriptRewriter {
  readonly #dropWholeShebang: boolean;
  readonly #backendSha = new Map<string, string>();

  /** @param dropWholeShebang the backend parses no shebang at all (the in-memory Lua VM). */
  constructor(dropWholeShebang: boolean) {
    this.#dropWholeShebang = dropWholeShebang;
  }

  #rewrite(source: string): string {
    if (!source.startsWith('#!')) return source;
    const newline = source.indexOf('\n');
    const shebang = newline === -1 ? source : source.slice(0, newline);
    const body = newline === -1 ? '' : source.slice(newline);
    if (this.#dropWholeShebang) return body;
    const match = /^#!(\S+)(?:\s+flags=(\S*))?\s*$/.exec(shebang);
    if (!match) return source;
    const flags = (match[2] ?? '').split(',').filter((flag) => flag && !UPSTASH_ONLY_FLAGS.has(flag));
    return `#!${match[1]}${flags.length ? ` flags=${flags.join(',')}` : ''}${body}`;
  }

  #remember(source: string): string {
    const rewritten = this.#rewrite(source);
    if (rewritten !== source) this.#backendSha.set(sha1(source), sha1(rewritten));
    return rewritten;
  }

  #shaFor(sha: string): string {
    return this.#backendSha.get(sha.toLowerCase()) ?? sha;
  }

  /** Rewrites a command's arguments for the backend. Returns the command to run. */
  rewriteCommand(args: readonly string[]): string[] {
    const [name = '', ...rest] = args;
    const lower = name.toLowerCase();
    if ((lower === 'eval' || lower === 'eval_ro') && rest[0] !== undefined) {
      return [name, this.#remember(rest[0]), ...rest.slice(1)];
    }
    if ((lower === 'evalsha' || lower === 'evalsha_ro') && rest[0] !== undefined) {
      return [name, this.#shaFor(rest[0]), ...rest.slice(1)];
    }
    if (lower === 'script' && rest[0]?.toLowerCase() === 'load' && rest[1] !== undefined) {
      return [name, rest[0], this.#remember(rest[1])];
    }
    if (lower === 'script' && rest[0]?.toLowerCase() === 'exists') {
      return [name, rest[0], ...rest.slice(1).map((sha) => this.#shaFor(sha))];
    }
    return [...args];
  }

  /** SCRIPT LOAD answers with the SHA of the script the client sent, as Upstash does. */
  rewriteReply(args: readonly string[], reply: unknown): unknown {
    const [name = '', sub = '', source] = args;
    if (name.toLowerCase() === 'script' && sub.toLowerCase() === 'load' && source !== undefined)
      return sha1(source);
    return reply;
  }
}
