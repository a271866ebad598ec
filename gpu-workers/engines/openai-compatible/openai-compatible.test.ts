import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryFiles } from '../../../tests/harness/job-files.ts';
import { UnsupportedJobError } from '../engine.ts';
import { createOpenAICompatibleEngine } from './index.ts';

/** A model server speaking the OpenAI streaming protocol, as vLLM or Ollama do, split across packets. */
let server: Server;
let baseUrl: string;
const received: Record<string, unknown>[] = [];

beforeAll(async () => {
  server = createServer(async (request, response) => {
    if (request.url === '/v1/models')
      return response.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[]}');
    let raw = '';
    for await (const part of request) raw += part;
    if (request.url === '/v1/completions') {
      const body = JSON.parse(raw) as Record<string, unknown>;
      received.push(body);
      // As vLLM: stream_options only with stream=true.
      if (body.stream_options !== undefined && body.stream !== true)
        return response
          .writeHead(400, { 'content-type': 'application/json' })
          .end('{"object":"error","message":"Stream options can only be defined when `stream=True`."}');
      return response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'cmpl-1',
          object: 'text_completion',
          choices: [{ index: 0, text: ' world', finish_reason: 'stop' }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    }
    if (request.url === '/v1/embeddings') {
      received.push(JSON.parse(raw));
      return response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          object: 'list',
          model: 'served',
          data: [{ object: 'embedding', index: 0, embedding: [0.6, 0.8] }],
        }),
      );
    }
    const body = JSON.parse(raw) as { messages: { content: string }[] };
    received.push(body);
    if (body.messages[0]?.content === 'too long') {
      return response
        .writeHead(400, { 'content-type': 'application/json' })
        .end('{"error":{"message":"context length exceeded"}}');
    }
    if (body.messages[0]?.content === 'unknown model') {
      return response
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"error":{"message":"The model `llama3.1:8b` does not exist."}}');
    }
    if (body.messages[0]?.content === 'ignore streaming') {
      return response
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"id":"x","choices":[{"message":{"role":"assistant","content":"whole"}}]}');
    }
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const piece = (content: string) =>
      `data: ${JSON.stringify({ id: 'upstream', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
    if (body.messages[0]?.content === 'fail midway') {
      // vLLM's way of failing once the stream has begun: an error event, then [DONE].
      return response.end(
        `${piece('Hal')}data: {"error":{"message":"CUDA error: an illegal memory access","type":"InternalServerError","code":500}}\n\ndata: [DONE]\n\n`,
      );
    }
    if (body.messages[0]?.content === 'cut off') return response.end(piece('Hal'));
    // A server that hangs mid-answer (a stuck GPU): one token, then nothing, the connection open.
    if (body.messages[0]?.content === 'hang') return void response.write(piece('Hal'));
    if (body.messages[0]?.content === 'weather in Paris?') {
      // A tool call as vLLM streams it: named in the first delta, its arguments spread over the next.
      const delta = (choice: Record<string, unknown>) =>
        `data: ${JSON.stringify({ id: 'upstream', choices: [{ index: 0, finish_reason: null, ...choice }] })}\n\n`;
      const token = (text: string) => ({ content: [{ token: text, logprob: -0.5, top_logprobs: [] }] });
      const call = (fn: Record<string, string>, id?: string) => ({
        tool_calls: [{ index: 0, ...(id ? { id, type: 'function' } : {}), function: fn }],
      });
      return response.end(
        delta({
          delta: { role: 'assistant', ...call({ name: 'get_weather', arguments: '' }, 'call_1') },
          logprobs: token('<'),
        }) +
          delta({ delta: call({ arguments: '{"city":' }), logprobs: token('city') }) +
          delta({ delta: call({ arguments: '"Paris"}' }), logprobs: token('Paris') }) +
          delta({ delta: {}, finish_reason: 'tool_calls' }) +
          'data: [DONE]\n\n',
      );
    }
    const chunk = (content: string | null, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'upstream', model: 'served', choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }] })}\n\n`;
    const stream = `${chunk('Hel', null)}${chunk('lo', null)}${chunk(null, 'stop')}data: ${JSON.stringify({ id: 'upstream', choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })}\n\ndata: [DONE]\n\n`;
    // Uneven writes: event boundaries fall inside packets.
    for (let i = 0; i < stream.length; i += 37) response.write(stream.slice(i, i + 37));
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const job = (content: string, stream: boolean) => ({
  id: 'job_1',
  kind: 'chat.completion',
  input: { model: 'my-deployment', messages: [{ role: 'user', content }], stream },
  deadline_ms: Date.now() + 60_000,
  attempt: 1,
});

describe('OpenAI-compatible engine adapter', () => {
  const engine = () => createOpenAICompatibleEngine({ baseUrl, servedModel: 'llama3.1:8b' });

  it('streams from the server, relays chunks under the platform id and model, and assembles the answer', async () => {
    await engine().ready(new AbortController().signal);
    const emitted: Record<string, unknown>[] = [];
    const result = await engine().run(
      job('hi', true),
      async (chunk) => {
        emitted.push(chunk);
        return true;
      },
      new AbortController().signal,
      memoryFiles().files,
    );
    expect(received.at(-1)).toMatchObject({
      model: 'llama3.1:8b',
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(emitted).toHaveLength(3);
    expect(emitted[0]).toMatchObject({
      id: 'chatcmpl-job_1',
      model: 'my-deployment',
      object: 'chat.completion.chunk',
    });
    expect(result).toMatchObject({
      id: 'chatcmpl-job_1',
      model: 'my-deployment',
      choices: [{ message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });

  it('emits nothing for a non-streaming caller, and passes the server’s refusals on as the caller’s to fix', async () => {
    const emitted: unknown[] = [];
    const result = await engine().run(
      job('hi', false),
      async (chunk) => {
        emitted.push(chunk);
        return true;
      },
      new AbortController().signal,
      memoryFiles().files,
    );
    expect(emitted).toEqual([]);
    expect((result as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe(
      'Hello',
    );
    await expect(
      engine().run(
        job('too long', false),
        async () => true,
        new AbortController().signal,
        memoryFiles().files,
      ),
    ).rejects.toBeInstanceOf(UnsupportedJobError);
  });

  it('assembles a non-streamed answer’s tool calls and log probabilities from the streamed pieces', async () => {
    const result = await engine().run(
      job('weather in Paris?', false),
      async () => true,
      new AbortController().signal,
      memoryFiles().files,
    );
    expect(result).toMatchObject({
      choices: [
        {
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          finish_reason: 'tool_calls',
          logprobs: { content: [{ token: '<' }, { token: 'city' }, { token: 'Paris' }] },
        },
      ],
    });
  });

  it('fails a job whose answer the server broke off, never passing a partial answer for a finished one', async () => {
    const run = (content: string) =>
      engine().run(job(content, true), async () => true, new AbortController().signal, memoryFiles().files);
    await expect(run('fail midway')).rejects.toThrow(
      /failed mid-answer: CUDA error: an illegal memory access/,
    );
    await expect(run('cut off')).rejects.toThrow(/stream ended before the answer did/);
    await expect(run('ignore streaming')).rejects.toThrow(
      /did not stream \(content-type application\/json\)/,
    );
  });

  it('fails a job whose model server goes quiet mid-answer, instead of holding its slot until the deadline', async () => {
    const quick = createOpenAICompatibleEngine({ baseUrl, servedModel: 'llama3.1:8b', stallMs: 300 });
    const emitted: unknown[] = [];
    const started = Date.now();
    await expect(
      quick.run(
        job('hang', true),
        async (chunk) => {
          emitted.push(chunk);
          return true;
        },
        new AbortController().signal,
        memoryFiles().files,
      ),
    ).rejects.toThrow('model server sent nothing for 0.3 s mid-answer');
    expect(emitted).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('blames the deployment, not the caller, for a model the server does not serve', async () => {
    const answer = engine().run(
      job('unknown model', false),
      async () => true,
      new AbortController().signal,
      memoryFiles().files,
    );
    await expect(answer).rejects.toThrow(/model server answered 404/);
    await expect(answer).rejects.not.toBeInstanceOf(UnsupportedJobError);
  });

  it('stops when the job is no longer ours', async () => {
    await expect(
      engine().run(job('hi', true), async () => false, new AbortController().signal, memoryFiles().files),
    ).rejects.toThrow('no longer ours');
  });

  it('passes embeddings through in one piece under the platform model name', async () => {
    const result = await engine().run(
      {
        id: 'job_2',
        kind: 'embedding',
        input: { model: 'my-deployment', input: 'hi' },
        deadline_ms: 0,
        attempt: 1,
      },
      async () => true,
      new AbortController().signal,
      memoryFiles().files,
    );
    expect(received.at(-1)).toMatchObject({ model: 'llama3.1:8b', input: 'hi', stream: false });
    expect(result).toMatchObject({ model: 'my-deployment', data: [{ embedding: [0.6, 0.8] }] });
  });

  it('answers a streamed legacy completion in one chunk, asking the server without stream options and without usage in the chunk', async () => {
    const chunks: Record<string, unknown>[] = [];
    const result = await engine().run(
      {
        id: 'job_3',
        kind: 'completion',
        input: {
          model: 'my-deployment',
          prompt: 'hello',
          stream: true,
          stream_options: { include_usage: true },
        },
        deadline_ms: 0,
        attempt: 1,
      },
      async (chunk) => {
        chunks.push(chunk);
        return true;
      },
      new AbortController().signal,
      memoryFiles().files,
    );
    expect(received.at(-1)).toEqual({ model: 'llama3.1:8b', prompt: 'hello', stream: false });
    expect(chunks).toEqual([expect.not.objectContaining({ usage: expect.anything() })]);
    expect(chunks[0]).toMatchObject({ model: 'my-deployment', choices: [{ text: ' world' }] });
    // The answer itself keeps its usage: it is what the job records.
    expect(result).toMatchObject({ usage: { total_tokens: 2 } });
  });
});
