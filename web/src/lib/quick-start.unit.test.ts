import { describe, expect, it } from 'vitest';
import { quickStart, servesOf } from './quick-start.ts';

const BASE = 'https://api.example.com/v1';

describe('a deployment’s quick-start', () => {
  it('calls what the deployment serves, not chat for every model', () => {
    expect(servesOf('llm', 'vllm')).toBe('chat');
    expect(servesOf('embedding', 'vllm')).toBe('embedding');
    expect(servesOf(undefined, 'whisper')).toBe('transcription');
    expect(servesOf(undefined, 'diffusers')).toBe('image');
    expect(servesOf(undefined, 'tts')).toBe('speech');
    expect(servesOf(undefined, 'vllm')).toBe('chat');
  });

  it.each([
    ['chat', 'client.chat.completions.create', '/chat/completions'],
    ['embedding', 'client.embeddings.create', '/embeddings'],
    ['transcription', 'client.audio.transcriptions.create', '/audio/transcriptions'],
    ['image', 'client.images.generate', '/images/generations'],
    ['speech', 'client.audio.speech.create', '/audio/speech'],
  ] as const)('%s: the SDKs and curl use the same route', (serves, call, path) => {
    const snippets = quickStart(BASE, 'sk_dep_x', 'my-model', serves);
    expect(snippets.Python).toContain(call);
    expect(snippets.Node).toContain(call);
    expect(snippets.Node).toContain(`baseURL: '${BASE}'`);
    expect(snippets.curl).toContain(`curl ${BASE}${path} \\\n`);
    for (const snippet of Object.values(snippets)) expect(snippet).toContain('my-model');
  });

  it('reads the key from AICLOUD_API_KEY when it is not shown, in each language', () => {
    const snippets = quickStart(BASE, null, 'ep_1', 'chat');
    expect(snippets.Python).toContain('api_key=os.environ["AICLOUD_API_KEY"]');
    expect(snippets.Python.startsWith('import os\n')).toBe(true);
    expect(snippets.Node).toContain('apiKey: process.env.AICLOUD_API_KEY');
    expect(snippets.curl).toContain('-H "Authorization: Bearer $AICLOUD_API_KEY"');
    expect(quickStart(BASE, 'sk_dep_x', 'm', 'chat').Python).toContain('api_key="sk_dep_x"');
  });
});
