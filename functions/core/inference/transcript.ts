/**
 * Transcription engines always answer in Whisper's verbose form; the edge renders the format the caller
 * asked for, so every engine supports every format the same way.
 */
export interface TranscriptSegment {
  id: number;
  start: number;
  end: number;
  text: string;
}

export interface VerboseTranscript {
  task: 'transcribe' | 'translate';
  language: string;
  duration: number;
  text: string;
  segments: TranscriptSegment[];
  words?: { word: string; start: number; end: number }[];
}

export const TRANSCRIPT_FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt'] as const;
export type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];

export type RenderedTranscript =
  | { kind: 'json'; body: Record<string, unknown> }
  | { kind: 'text'; body: string; contentType: string };

function clock(seconds: number, separator: ',' | '.') {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const secs = Math.floor((ms % 60_000) / 1000);
  return `${pad(hours)}:${pad(minutes)}:${pad(secs)}${separator}${pad(ms % 1000, 3)}`;
}

const cues = (segments: TranscriptSegment[], separator: ',' | '.') =>
  segments.map(
    (segment) =>
      `${clock(segment.start, separator)} --> ${clock(segment.end, separator)}\n${segment.text.trim()}`,
  );

export function renderTranscript(
  transcript: VerboseTranscript,
  format: TranscriptFormat,
  granularities: readonly string[] = ['segment'],
): RenderedTranscript {
  const usage = { type: 'duration', seconds: Math.ceil(transcript.duration) };
  switch (format) {
    case 'json':
      return { kind: 'json', body: { text: transcript.text, usage } };
    case 'verbose_json': {
      const { words, segments, ...rest } = transcript;
      return {
        kind: 'json',
        body: {
          ...rest,
          ...(granularities.includes('segment') ? { segments } : {}),
          ...(granularities.includes('word') ? { words: words ?? [] } : {}),
          usage,
        },
      };
    }
    case 'text':
      return { kind: 'text', body: `${transcript.text}\n`, contentType: 'text/plain; charset=utf-8' };
    case 'srt':
      return {
        kind: 'text',
        body: `${cues(transcript.segments, ',')
          .map((cue, i) => `${i + 1}\n${cue}`)
          .join('\n\n')}\n`,
        contentType: 'application/x-subrip; charset=utf-8',
      };
    case 'vtt':
      return {
        kind: 'text',
        body: `WEBVTT\n\n${cues(transcript.segments, '.').join('\n\n')}\n`,
        contentType: 'text/vtt; charset=utf-8',
      };
  }
}
