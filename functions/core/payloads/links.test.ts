import { describe, expect, it } from 'vitest';
import { checkOutputLink, presentFiles, signOutputLink } from './links.ts';

const SECRET = 'x'.repeat(40);
const file = { jobId: 'job_1', name: 'image-0.png' };

async function signed(expires = 2_000) {
  const url = new URL(await signOutputLink(SECRET, 'https://api.example.com', file, expires));
  return {
    url,
    expires: url.searchParams.get('expires') ?? '',
    signature: url.searchParams.get('signature') ?? '',
  };
}

describe('signed output links', () => {
  it('verifies its own links until they expire', async () => {
    const { url, expires, signature } = await signed();
    expect(url.pathname).toBe('/v1/files/job_1/image-0.png');
    expect(await checkOutputLink(SECRET, file, expires, signature, 1_999)).toBe('valid');
    expect(await checkOutputLink(SECRET, file, expires, signature, 2_001)).toBe('expired');
  });

  it('refuses a link for another file, a later expiry, another secret or a malformed signature', async () => {
    const { expires, signature } = await signed();
    expect(await checkOutputLink(SECRET, { ...file, name: 'image-1.png' }, expires, signature, 0)).toBe(
      'invalid',
    );
    expect(await checkOutputLink(SECRET, { ...file, jobId: 'job_2' }, expires, signature, 0)).toBe('invalid');
    expect(await checkOutputLink(SECRET, file, '9999', signature, 0)).toBe('invalid');
    expect(await checkOutputLink('y'.repeat(40), file, expires, signature, 0)).toBe('invalid');
    expect(await checkOutputLink(SECRET, file, expires, 'zz', 0)).toBe('invalid');
    expect(await checkOutputLink(SECRET, file, undefined, undefined, 0)).toBe('invalid');
    expect(await checkOutputLink(SECRET, { ...file, name: '../secrets.png' }, expires, signature, 0)).toBe(
      'invalid',
    );
  });
});

describe('presenting worker files', () => {
  it('replaces file references at the top level and in data, leaving other fields', async () => {
    const present = async (ref: { file: string }) => ({ url: `https://x/${ref.file}` });
    expect(await presentFiles({ file: 'speech.wav' }, present)).toEqual({ url: 'https://x/speech.wav' });
    expect(
      await presentFiles({ created: 1, data: [{ file: 'image-0.png', revised_prompt: 'p' }] }, present),
    ).toEqual({ created: 1, data: [{ url: 'https://x/image-0.png', revised_prompt: 'p' }] });
    expect(await presentFiles({ text: 'no files' }, present)).toEqual({ text: 'no files' });
  });
});
