import { describe, expect, it } from 'vitest';
import { createDevEngine, devReply } from './index.ts';

const job = (input: Record<string, unknown>, kind = 'chat.completion') => ({
  id: 'job_1',
  kind,
  input,
  deadline_ms: 0,
  attempt: 1,
});

describe('development engine', () => {
  it('answers deterministically, labelled as the development engine', () => {
    const messages = [{ role: 'user', content: 'same prompt' }];
    expect(devReply(messages)).toEqual(devReply(messages));
    expect(devReply(messages).join(' ')).toMatch(/^\[development engine\] You said: "same prompt"\./);
  });

  it('honours max_tokens with finish_reason length, and streams one chunk per token plus role and finish', async () => {
    const emitted: Record<string, unknown>[] = [];
    const result = (await createDevEngine({ tokenDelayMs: 0 }).run(
      job({
        model: 'm',
        messages: [{ role: 'user', content: 'count my tokens' }],
        stream: true,
        max_tokens: 3,
      }),
      async (chunk) => {
        emitted.push(chunk);
        return true;
      },
      new AbortController().signal,
    )) as {
      choices: { finish_reason: string; message: { content: string } }[];
      usage: Record<string, number>;
    };
    expect(emitted).toHaveLength(5);
    expect(result.choices[0]?.finish_reason).toBe('length');
    expect(result.choices[0]?.message.content).toBe('[development engine] You');
    expect(result.usage).toEqual({ prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 });
  });

  it('refuses kinds it cannot run yet', async () => {
    await expect(
      createDevEngine({ tokenDelayMs: 0 }).run(
        job({}, 'image.generation'),
        async () => true,
        new AbortController().signal,
      ),
    ).rejects.toThrow('does not run image.generation');
  });
});
