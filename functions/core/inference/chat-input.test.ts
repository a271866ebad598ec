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
