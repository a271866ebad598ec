import { describe, expect, it } from 'vitest';
import { memoryFiles } from '../../../tests/harness/job-files.ts';
import { UnsupportedJobError } from '../engine.ts';
import { encodeWav, wavDuration } from './encode.ts';
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
      memoryFiles().files,
    )) as {
      choices: { finish_reason: string; message: { content: string } }[];
      usage: Record<string, number>;
    };
    expect(emitted).toHaveLength(5);
    expect(result.choices[0]?.finish_reason).toBe('length');
    expect(result.choices[0]?.message.content).toBe('[development engine] You');
    expect(result.usage).toEqual({ prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 });
  });

  it('transcribes by the audio’s length, read from the WAV header', async () => {
    const wav = new Blob([encodeWav(new Int16Array(8000 * 11), 8000)]);
    const result = (await createDevEngine({ tokenDelayMs: 0 }).run(
      job({ file: { name: 'call.wav', bytes: wav.size } }, 'audio.transcription'),
      async () => true,
      new AbortController().signal,
      memoryFiles(wav).files,
    )) as { duration: number; segments: { start: number; end: number }[]; text: string };
    expect(result.duration).toBe(11);
    expect(result.segments.map((segment) => [segment.start, segment.end])).toEqual([
      [0, 5],
      [5, 10],
      [10, 11],
    ]);
    expect(result.text).toMatch(/^\[development engine\] part 1 of 3 of call\.wav\./);
    expect(wavDuration(new Uint8Array(await wav.arrayBuffer()))).toBe(11);
    expect(wavDuration(new TextEncoder().encode('not a wav file'))).toBeNull();
  });

  it('speaks a WAV whose length follows the text, and refuses formats it cannot encode', async () => {
    const { files, outputs } = memoryFiles();
    const engine = createDevEngine({ tokenDelayMs: 0 });
    const speech = job(
      { input: 'two words', voice: 'alloy', response_format: 'wav', speed: 2 },
      'audio.speech',
    );
    expect(await engine.run(speech, async () => true, new AbortController().signal, files)).toEqual({
      file: 'speech.wav',
    });
    const wav = new Uint8Array(await (outputs.get('speech.wav') as Blob).arrayBuffer());
    // Two words of 0.125 s (speed 2) plus a fifth of that as a gap, at 24 kHz.
    expect(wavDuration(wav)).toBeCloseTo((2 * (3000 + 600)) / 24_000, 5);
    await expect(
      engine.run(
        job({ input: 'x', voice: 'alloy', response_format: 'mp3' }, 'audio.speech'),
        async () => true,
        new AbortController().signal,
        files,
      ),
    ).rejects.toBeInstanceOf(UnsupportedJobError);
  });

  it('draws n PNGs of the requested size, equal for equal prompts and seeds', async () => {
    const draw = async (prompt: string) => {
      const { files, outputs } = memoryFiles();
      await createDevEngine({ tokenDelayMs: 0 }).run(
        job({ prompt, n: 2, size: '320x192', seed: 1 }, 'image.generation'),
        async () => true,
        new AbortController().signal,
        files,
      );
      return Promise.all(
        ['image-0.png', 'image-1.png'].map(async (name) =>
          Buffer.from(await (outputs.get(name) as Blob).arrayBuffer()),
        ),
      );
    };
    const [first, second] = await draw('a harbour');
    const [again] = await draw('a harbour');
    expect(first?.readUInt32BE(16)).toBe(320);
    expect(first?.readUInt32BE(20)).toBe(192);
    expect(first?.equals(again as Buffer)).toBe(true);
    expect(first?.equals(second as Buffer)).toBe(false);
  });
});
