/** What a deployment serves, and so which call its quick-start shows. */
export type Serves = 'chat' | 'embedding' | 'transcription' | 'image' | 'speech';

/** From the catalog model's category; a custom image by its engine (vLLM serves chat). */
export function servesOf(category: string | undefined, engine: string): Serves {
  if (
    category === 'embedding' ||
    category === 'transcription' ||
    category === 'image' ||
    category === 'speech'
  )
    return category;
  if (category === 'llm') return 'chat';
  return engine === 'whisper'
    ? 'transcription'
    : engine === 'diffusers'
      ? 'image'
      : engine === 'tts'
        ? 'speech'
        : 'chat';
}

/**
 * Code that calls the deployment. With its key just shown, the key is written in; otherwise each
 * snippet reads it from `AICLOUD_API_KEY` (a literal "$AICLOUD_API_KEY" in Python or Node would be
 * sent as the key itself).
 */
export function quickStart(baseUrl: string, key: string | null, model: string, serves: Serves) {
  const python = (call: string, show: string) =>
    `${key ? '' : 'import os\n'}from openai import OpenAI

client = OpenAI(base_url="${baseUrl}", api_key=${key ? `"${key}"` : 'os.environ["AICLOUD_API_KEY"]'})
${call}
${show}`;
  const node = (call: string, show: string) =>
    `import OpenAI from 'openai';

const client = new OpenAI({ baseURL: '${baseUrl}', apiKey: ${key ? `'${key}'` : 'process.env.AICLOUD_API_KEY'} });
${call}
${show}`;
  const curl = (path: string, body: string) =>
    `curl ${baseUrl}${path} \\
  -H "Authorization: Bearer ${key ?? '$AICLOUD_API_KEY'}" \\
${body}`;
  switch (serves) {
    case 'embedding':
      return {
        Python: python(
          `reply = client.embeddings.create(model="${model}", input="Hello!")`,
          'print(len(reply.data[0].embedding))',
        ),
        Node: node(
          `const reply = await client.embeddings.create({ model: '${model}', input: 'Hello!' });`,
          'console.log(reply.data[0].embedding.length);',
        ),
        curl: curl(
          '/embeddings',
          `  -H "Content-Type: application/json" \\
  -d '{"model": "${model}", "input": "Hello!"}'`,
        ),
      };
    case 'transcription':
      return {
        Python: python(
          `reply = client.audio.transcriptions.create(model="${model}", file=open("speech.mp3", "rb"))`,
          'print(reply.text)',
        ),
        Node: `import fs from 'node:fs';
${node(
  `const reply = await client.audio.transcriptions.create({
  model: '${model}',
  file: fs.createReadStream('speech.mp3'),
});`,
  'console.log(reply.text);',
)}`,
        curl: curl(
          '/audio/transcriptions',
          `  -F model="${model}" \\
  -F file="@speech.mp3"`,
        ),
      };
    case 'image':
      return {
        Python: python(
          `reply = client.images.generate(model="${model}", prompt="A lighthouse at dawn")`,
          'print(reply.data[0].url)',
        ),
        Node: node(
          `const reply = await client.images.generate({ model: '${model}', prompt: 'A lighthouse at dawn' });`,
          'console.log(reply.data[0].url);',
        ),
        curl: curl(
          '/images/generations',
          `  -H "Content-Type: application/json" \\
  -d '{"model": "${model}", "prompt": "A lighthouse at dawn"}'`,
        ),
      };
    case 'speech':
      return {
        Python: python(
          `reply = client.audio.speech.create(model="${model}", voice="alloy", input="Hello!")`,
          'reply.write_to_file("hello.mp3")',
        ),
        Node: `import fs from 'node:fs';
${node(
  `const reply = await client.audio.speech.create({ model: '${model}', voice: 'alloy', input: 'Hello!' });`,
  "fs.writeFileSync('hello.mp3', Buffer.from(await reply.arrayBuffer()));",
)}`,
        curl: curl(
          '/audio/speech',
          `  -H "Content-Type: application/json" \\
  -d '{"model": "${model}", "voice": "alloy", "input": "Hello!"}' --output hello.mp3`,
        ),
      };
    default:
      return {
        Python: python(
          `reply = client.chat.completions.create(
    model="${model}",
    messages=[{"role": "user", "content": "Hello!"}],
)`,
          'print(reply.choices[0].message.content)',
        ),
        Node: node(
          `const reply = await client.chat.completions.create({
  model: '${model}',
  messages: [{ role: 'user', content: 'Hello!' }],
});`,
          'console.log(reply.choices[0].message.content);',
        ),
        curl: curl(
          '/chat/completions',
          `  -H "Content-Type: application/json" \\
  -d '{"model": "${model}", "messages": [{"role": "user", "content": "Hello!"}]}'`,
        ),
      };
  }
}
