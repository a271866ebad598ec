import { describe, expect, it } from 'vitest';
import { chatCompletionInput } from './chat-input.ts';

const withImage = (url: string) => ({
  model: 'm',
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'what is this?' },
        { type: 'image_url', image_url: { url, detail: 'low' } },
      ],
    },
  ],
});

describe('chat input images', () => {
  it('takes inline images and public https URLs', () => {
    for (const url of ['data:image/png;base64,iVBORw0KGgo=', 'https://images.example.com/cat.jpg']) {
      expect(chatCompletionInput.safeParse(withImage(url)).success, url).toBe(true);
    }
  });

  it('refuses URLs the GPU host must not fetch: files, its metadata endpoint, private networks', () => {
    for (const url of [
      'file:///etc/passwd',
      'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      'https://169.254.169.254/latest/meta-data/',
      'https://10.0.0.7/internal.png',
      'https://localhost/x.png',
      'https://metadata.google.internal/x',
      'http://images.example.com/cat.jpg',
      'data:text/html;base64,PGgxPg==',
      'gopher://example.com/',
    ]) {
      const parsed = chatCompletionInput.safeParse(withImage(url));
      expect(parsed.success, url).toBe(false);
    }
  });
});

const chat = (extra: Record<string, unknown>, messages: unknown[] = [{ role: 'user', content: 'hi' }]) =>
  chatCompletionInput.safeParse({ model: 'm', messages, ...extra });
const paramOf = (parsed: ReturnType<typeof chat>) =>
  parsed.success ? null : parsed.error.issues[0]?.path.join('.');

describe('chat input tools and messages', () => {
  it('takes function tools, the tool choices OpenAI names, and history the SDKs replay', () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather in a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
          strict: true,
        },
      },
    ];
    for (const toolChoice of [
      'none',
      'auto',
      'required',
      { type: 'function', function: { name: 'get_weather' } },
    ]) {
      expect(chat({ tools, tool_choice: toolChoice }).success, JSON.stringify(toolChoice)).toBe(true);
    }
    const history = [
      { role: 'user', content: 'weather in Paris?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'c1', content: '18°C' },
    ];
    expect(chat({ tools }, history).success).toBe(true);
    expect(chat({ logit_bias: { '50256': -100, '11': 2.5 } }).success).toBe(true);
  });

  it('refuses what OpenAI refuses, naming the field, rather than leaving it to the model server', () => {
    expect(paramOf(chat({ tools: [{}] }))).toBe('tools.0.type');
    expect(paramOf(chat({ tools: [{ type: 'custom', custom: { name: 'x' } }] }))).toBe('tools.0.type');
    expect(paramOf(chat({ tools: [{ type: 'function', function: { name: 'has space' } }] }))).toBe(
      'tools.0.function.name',
    );
    expect(paramOf(chat({ tool_choice: { type: 'bogus' } }))).toBe('tool_choice');
    expect(paramOf(chat({ tool_choice: 'sometimes' }))).toBe('tool_choice');
    expect(paramOf(chat({}, [{ role: 'user', content: null }]))).toBe('messages.0.content');
    expect(paramOf(chat({ logit_bias: { a: 1 } }))).toBe('logit_bias.a');
    expect(paramOf(chat({ logit_bias: { '1': 1e308 } }))).toBe('logit_bias.1');
  });
});
