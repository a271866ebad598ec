import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MailOutbox, startMailOutbox } from '../../dev/mail/server.ts';
import { createResendMailer } from '../../functions/lib/mail.ts';

/** The production Resend client against the local outbox: same protocol, same failures. */
describe('local mail outbox (Resend API)', () => {
  let outbox: MailOutbox;
  const message = { to: 'ada@example.com', subject: 'Hello', text: 'Plain body', html: '<p>Plain body</p>' };

  beforeAll(async () => {
    outbox = await startMailOutbox({ port: 0, apiKey: 're_local_key' });
  });
  afterAll(() => outbox.close());

  const read = async (to?: string) =>
    (await (await fetch(`${outbox.url}/outbox${to ? `?to=${encodeURIComponent(to)}` : ''}`)).json()).data;

  it('accepts a send from the real client and shows it as JSON and on the page', async () => {
    const mailer = createResendMailer({
      apiUrl: outbox.url,
      apiKey: 're_local_key',
      from: 'AI Cloud <no-reply@aicloud.dev>',
    });
    await mailer.send(message);
    const [stored] = await read('ADA@example.com');
    expect(stored).toMatchObject({
      to: ['ada@example.com'],
      subject: 'Hello',
      text: 'Plain body',
      from: 'AI Cloud <no-reply@aicloud.dev>',
    });
    const page = await (await fetch(`${outbox.url}/`)).text();
    expect(page).toContain('Hello');
    expect(page).not.toContain('<p>Plain body</p>');
  });

  it('answers like Resend to a missing or wrong key and to invalid messages', async () => {
    const post = (headers: Record<string, string>, body: unknown) =>
      fetch(`${outbox.url}/emails`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const auth = { authorization: 'Bearer re_local_key' };
    const missingKey = await post({}, { from: 'a@b.co', to: 'c@d.co', subject: 's', text: 't' });
    expect(missingKey.status).toBe(401);
    expect(await missingKey.json()).toMatchObject({ statusCode: 401, name: 'missing_api_key' });
    expect((await post({ authorization: 'Bearer re_wrong' }, {})).status).toBe(403);
    const noSubject = await post(auth, { from: 'a@b.co', to: 'c@d.co', text: 't' });
    expect(noSubject.status).toBe(422);
    expect((await noSubject.json()).name).toBe('missing_required_field');
    expect((await post(auth, { from: 'a@b.co', to: 'nobody', subject: 's', text: 't' })).status).toBe(422);

    const failing = createResendMailer({ apiUrl: outbox.url, apiKey: 're_wrong', from: 'a@b.co' });
    await expect(failing.send(message)).rejects.toMatchObject({
      code: 'service_unavailable',
      dependency: 'email',
    });
  });

  it('delivers once per Idempotency-Key', async () => {
    const body = JSON.stringify({ from: 'a@b.co', to: 'once@example.com', subject: 's', text: 't' });
    const headers = {
      authorization: 'Bearer re_local_key',
      'content-type': 'application/json',
      'idempotency-key': 'k-1',
    };
    const first = await (await fetch(`${outbox.url}/emails`, { method: 'POST', headers, body })).json();
    const second = await (await fetch(`${outbox.url}/emails`, { method: 'POST', headers, body })).json();
    expect(second.id).toBe(first.id);
    expect(await read('once@example.com')).toHaveLength(1);
  });
});
