/**
 * Recognises the audio containers OpenAI's transcription API accepts from their first bytes, so a file
 * that is not audio is refused at the edge instead of reaching a GPU.
 */
export type AudioContainer = 'wav' | 'mp3' | 'flac' | 'ogg' | 'webm' | 'mp4';

const ascii = (bytes: Uint8Array, offset: number, text: string) =>
  text.split('').every((char, i) => bytes[offset + i] === char.charCodeAt(0));

export function sniffAudio(head: Uint8Array): AudioContainer | null {
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WAVE')) return 'wav';
  if (ascii(head, 0, 'fLaC')) return 'flac';
  if (ascii(head, 0, 'OggS')) return 'ogg';
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return 'webm';
  // MPEG-4 (mp4, m4a): a box size, then `ftyp`.
  if (ascii(head, 4, 'ftyp')) return 'mp4';
  // MP3: an ID3 tag, or straight into an MPEG audio frame (11 sync bits, layer ≠ reserved).
  if (ascii(head, 0, 'ID3')) return 'mp3';
  const [first = 0, second = 0] = head;
  if (first === 0xff && (second & 0xe0) === 0xe0 && (second & 0x06) !== 0) return 'mp3';
  return null;
}

/** Bytes needed to recognise any of the above. */
export const AUDIO_SNIFF_BYTES = 12;
