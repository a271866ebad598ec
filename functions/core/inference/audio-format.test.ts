import { describe, expect, it } from 'vitest';
import { sniffAudio } from './audio-format.ts';

const bytes = (...parts: (string | number[])[]) =>
  Uint8Array.from(
    parts.flatMap((part) => (typeof part === 'string' ? [...part].map((c) => c.charCodeAt(0)) : part)),
  );

describe('audio sniffing', () => {
  it.each([
    ['wav', bytes('RIFF', [0, 0, 0, 0], 'WAVE')],
    ['flac', bytes('fLaC')],
    ['ogg', bytes('OggS')],
    ['webm', bytes([0x1a, 0x45, 0xdf, 0xa3])],
    ['mp4', bytes([0, 0, 0, 0x20], 'ftypM4A ')],
    ['mp3', bytes('ID3', [4, 0])],
    ['mp3', bytes([0xff, 0xfb, 0x90, 0x44])],
  ])('recognises %s', (container, head) => {
    expect(sniffAudio(head)).toBe(container);
  });

  it.each([
    ['a PDF', bytes('%PDF-1.7')],
    ['a RIFF that is not WAVE', bytes('RIFF', [0, 0, 0, 0], 'AVI ')],
    ['a PNG', bytes([0x89], 'PNG')],
    ['an MPEG frame with the reserved layer', bytes([0xff, 0xe0])],
    ['nothing', bytes()],
  ])('refuses %s', (_, head) => {
    expect(sniffAudio(head)).toBeNull();
  });
});
