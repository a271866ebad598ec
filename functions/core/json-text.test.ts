import { describe, expect, it } from 'vitest';
import { jsonTextProblem, nestsDeeperThan, storableJson } from './json-text.ts';

describe('jsonTextProblem', () => {
  it('passes ordinary JSON, escapes, paired surrogates and brackets inside strings', () => {
    const body = JSON.stringify({
      text: 'quote " backslash \\ newline \n emoji 😀 é',
      brackets: '[[[[{{{{',
      escaped: '\\u0000 is only text here',
      nested: [[{ a: [1, 2] }]],
    });
    expect(jsonTextProblem(body)).toBeNull();
    expect(jsonTextProblem('{"a":"\\ud83d\\ude00"}')).toBeNull();
  });

  it('finds a NUL character and unpaired surrogates wherever they are', () => {
    const nul = { messages: [{ role: 'user', content: 'a\u0000b' }] };
    expect(jsonTextProblem(JSON.stringify(nul))).toEqual({
      message: 'contains a NUL character (\\u0000)',
      param: 'messages.0.content',
    });
    expect(jsonTextProblem('{"env":{"k\\u0000":1}}')?.param).toBe('env.k\u0000');
    expect(jsonTextProblem('{"a":"x\\ud800y"}')).toEqual({
      message: 'contains an unpaired surrogate escape',
      param: 'a',
    });
    expect(jsonTextProblem('{"a":"\\udc00"}')?.message).toMatch(/surrogate/);
    expect(jsonTextProblem('{"a":"\\ud800\\u0041"}')?.message).toMatch(/surrogate/);
  });

  it('refuses nesting past the limit and allows it up to the limit', () => {
    const nest = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    expect(jsonTextProblem(nest(100))).toBeNull();
    expect(jsonTextProblem(nest(101))).toEqual({ message: 'nests deeper than 100 levels', param: null });
    expect(jsonTextProblem(`{"a":"${'['.repeat(500)}"}`)).toBeNull();
  });

  it('makes what must be kept storable: NUL and lone surrogates become U+FFFD, the rest is untouched', () => {
    const output = { text: 'a\u0000b', parts: ['\ud800', '😀'], 'k\u0000': 1, n: 2, nothing: null };
    expect(storableJson(output)).toEqual({
      text: 'a\ufffdb',
      parts: ['\ufffd', '😀'],
      'k\ufffd': 1,
      n: 2,
      nothing: null,
    });
    expect(jsonTextProblem(JSON.stringify(storableJson(output)))).toBeNull();
  });
});

describe('nesting depth of a parsed value', () => {
  it('counts the outermost array or object as level 1, and walks any depth without recursion', () => {
    expect(nestsDeeperThan(1, 0)).toBe(false);
    expect(nestsDeeperThan({ a: [1, 2] }, 2)).toBe(false);
    expect(nestsDeeperThan({ a: [1, { b: 2 }] }, 2)).toBe(true);
    expect(nestsDeeperThan({ embedding: new Array(100_000).fill(0.5) }, 2)).toBe(false);
    const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    expect(nestsDeeperThan(deep, 100)).toBe(true);
  });
});
