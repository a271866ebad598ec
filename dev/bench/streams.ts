import { createParser } from 'eventsource-parser';
import type { Deployment } from './account.ts';
import type { MockEngine } from './mock-engine.ts';
import { percentile } from './percentile.ts';

/** What one wave of concurrent streams saw, all streams together. */
export interface StreamWave {
  streams: number;
  /** Request sent → first content delta. */
  ttftP50Ms: number;
  ttftP99Ms: number;
  /** Gaps between consecutive content deltas of a stream (the engine paces them at `intervalMs`). */
  interFrameP50Ms: number;
  interFrameP99Ms: number;
  /** Content deltas the engine sent that never reached the client. */
  framesDropped: number;
  /** Streams that did not end with `[DONE]` after all their deltas (HTTP errors, error frames). */
  failures: number;
  seconds: number;
}

export interface StreamingRow {
  streams: number;
  direct: StreamWave;
  platform: StreamWave;
  addedTtftP50Ms: number;
  addedInterFrameP99Ms: number;
}

interface OneStream {
  ttftMs: number | null;
  gapsMs: number[];
  deltas: number;
  done: boolean;
}

/** One streamed chat completion, read frame by frame as an OpenAI SDK would. */
async function oneStream(url: string, headers: Record<string, string>, body: unknown): Promise<OneStream> {
  const sent = performance.now();
  const seen: OneStream = { ttftMs: null, gapsMs: [], deltas: 0, done: false };
  let last = 0;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      return seen;
    }
    const parser = createParser({
      onEvent: (event) => {
        if (event.data === '[DONE]') {
          seen.done = true;
          return;
        }
        const frame = JSON.parse(event.data) as { choices?: { delta?: { content?: string } }[] };
        if (!frame.choices?.[0]?.delta?.content) return;
        const now = performance.now();
        if (seen.ttftMs === null) seen.ttftMs = now - sent;
        else seen.gapsMs.push(now - last);
        last = now;
        seen.deltas++;
      },
    });
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      parser.feed(decoder.decode(read.value, { stream: true }));
    }
  } catch {
    // A connection error counts as a failed stream.
  }
  return seen;
}

async function wave(
  url: string,
  headers: Record<string, string>,
  streams: number,
  deltas: number,
): Promise<StreamWave> {
  const started = performance.now();
  const body = {
    model: 'llama-3.1-8b-instruct',
    messages: [{ role: 'user', content: 'Count.' }],
    stream: true,
  };
  const results = await Promise.all(Array.from({ length: streams }, () => oneStream(url, headers, body)));
  const ttfts = results.flatMap((result) => (result.ttftMs === null ? [] : [result.ttftMs]));
  const gaps = results.flatMap((result) => result.gapsMs);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    streams,
    ttftP50Ms: round(percentile(ttfts, 50)),
    ttftP99Ms: round(percentile(ttfts, 99)),
    interFrameP50Ms: round(percentile(gaps, 50)),
    interFrameP99Ms: round(percentile(gaps, 99)),
    framesDropped: results.reduce((sum, result) => sum + Math.max(0, deltas - result.deltas), 0),
    failures: results.filter((result) => !result.done || result.deltas !== deltas).length,
    seconds: round((performance.now() - started) / 1000),
  };
}

/**
 * Streamed chat completions, `deltas` content frames `intervalMs` apart, opened all at once in waves
 * of each size: straight to the engine, then through the whole path. Added time-to-first-token and
 * inter-frame p99 are the platform's share; a frame the engine sent and the client never got is dropped.
 */
export async function streaming(options: {
  edge: string;
  engine: MockEngine;
  deployment: Deployment;
  waves: number[];
  deltas: number;
  intervalMs: number;
}): Promise<StreamingRow[]> {
  await options.engine.pace({ deltas: options.deltas, intervalMs: options.intervalMs });
  const rows: StreamingRow[] = [];
  for (const streams of options.waves) {
    const direct = await wave(`${options.engine.url}/v1/chat/completions`, {}, streams, options.deltas);
    const platform = await wave(
      `${options.edge}/v1/chat/completions`,
      { authorization: `Bearer ${options.deployment.key}` },
      streams,
      options.deltas,
    );
    rows.push({
      streams,
      direct,
      platform,
      addedTtftP50Ms: Math.round((platform.ttftP50Ms - direct.ttftP50Ms) * 10) / 10,
      addedInterFrameP99Ms: Math.round((platform.interFrameP99Ms - direct.interFrameP99Ms) * 10) / 10,
    });
  }
  return rows;
}
