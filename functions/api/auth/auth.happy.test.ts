import { describe, expect, it } from 'vitest';
import {
  call,
  freshIp,
  linkToken,
  outbox,
  PASSWORD,
  signUp,
  uniqueEmail,
} from '../../../tests/harness/edge.ts';

describe('sign up, verify, log in, refresh, log out', () => {
  it('walks the whole account lifecycle', async () => {
    const email = uniqueEmail('lifecycle');
    const headers = { 'cf-connecting-ip': freshIp() };
    const registered = await call('POST', '/api/auth/register', {
      body: { email: email.toUpperCase(), password: PASSWORD, name: 'Ada' },
      headers,
    });
    expect(registered.status).toBe(202);
    expect(registered.body.status).toBe('accepted');

    const [verification] = await outbox(email);
    expect(verification?.subject).toBe('Verify your AI Cloud email address');

    const login = await call('POST', '/api/auth/login', { body: { email, password: PASSWORD }, headers });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    expect(login.headers.get('cache-control')).toBe('no-store');
    const cookies = login.headers.get('set-cookie') ?? '';
    expect(cookies).toContain('aic_session=');
    expect(cookies).toMatch(/aic_refresh=[^;]+;.*HttpOnly/i);

    const me = await call('GET', '/api/auth/me', { token: login.body.access_token });
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ email, name: 'Ada', email_verified: false });
    expect(me.body.role).toBe('owner');
    expect(me.headers.get('x-ratelimit-limit-requests')).toBe('600');
    expect(Number(me.headers.get('x-ratelimit-remaining-requests'))).toBeLessThan(600);
    expect(me.headers.get('x-ratelimit-reset-requests')).toMatch(/^(\d+m)?\d+s$/);

    const verified = await call('POST', '/api/auth/verify-email', {
      body: { token: await linkToken(email, '/verify-email'), password: PASSWORD },
      headers,
    });
    expect(verified.status).toBe(200);
    const after = await call('GET', '/api/auth/me', { token: login.body.access_token });
    expect(after.body.user.email_verified).toBe(true);

    const refreshed = await call('POST', '/api/auth/refresh', {
      body: { refresh_token: login.body.refresh_token },
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(login.body.refresh_token);
    expect(refreshed.body.session_id).toBe(login.body.session_id);
    expect((await call('GET', '/api/auth/me', { token: refreshed.body.access_token })).status).toBe(200);

    // Refreshed with the httpOnly cookie (the web app): the new refresh token goes back in the cookie
    // alone, never in a body a page script could read.
    const refreshCookieOf = (response: { headers: Headers }) =>
      /aic_refresh=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const byCookie = await call('POST', '/api/auth/refresh', {
      body: {},
      headers: { cookie: `aic_refresh=${refreshed.body.refresh_token}` },
    });
    expect(byCookie.status).toBe(200);
    expect(byCookie.body.refresh_token).toBeNull();
    expect(refreshCookieOf(byCookie)).not.toBe('');
    expect(refreshCookieOf(byCookie)).not.toBe(refreshed.body.refresh_token);

    const out = await call('POST', '/api/auth/logout', { body: {}, token: refreshed.body.access_token });
    expect(out.status).toBe(204);
    // The session is gone: its access token and its refresh token both stop working.
    expect((await call('GET', '/api/auth/me', { token: refreshed.body.access_token })).status).toBe(401);
    expect(
      (await call('POST', '/api/auth/refresh', { body: { refresh_token: refreshed.body.refresh_token } }))
        .status,
    ).toBe(401);
  });

  it('resets a forgotten password by emailed link and signs out every session', async () => {
    const user = await signUp('reset');
    const requested = await call('POST', '/api/auth/password-reset', { body: { email: user.email } });
    expect(requested.status).toBe(202);
    const token = await linkToken(user.email, '/reset-password');
    const newPassword = 'a much better passphrase';
    const reset = await call('POST', '/api/auth/password-reset/confirm', {
      body: { token, password: newPassword },
    });
    expect(reset.status).toBe(200);

    expect((await call('GET', '/api/auth/me', { token: user.token })).status).toBe(401);
    const headers = { 'cf-connecting-ip': user.ip };
    expect(
      (await call('POST', '/api/auth/login', { body: { email: user.email, password: PASSWORD }, headers }))
        .status,
    ).toBe(401);
    expect(
      (await call('POST', '/api/auth/login', { body: { email: user.email, password: newPassword }, headers }))
        .status,
    ).toBe(200);
    // The link works once.
    expect(
      (await call('POST', '/api/auth/password-reset/confirm', { body: { token, password: newPassword } }))
        .status,
    ).toBe(400);
  });

  it('lists the user’s sessions and signs one out, or every one but this, from another', async () => {
    const user = await signUp('sessions');
    const headers = { 'cf-connecting-ip': user.ip, 'user-agent': 'aicloud-cli/1.0' };
    const logIn = async () =>
      (await call('POST', '/api/auth/login', { body: { email: user.email, password: PASSWORD }, headers }))
        .body;
    const laptop = await logIn();
    const phone = await logIn();

    const listed = await call('GET', '/api/auth/sessions', { token: laptop.access_token });
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((session: { id: string }) => session.id).sort()).toEqual(
      [user.sessionId, laptop.session_id, phone.session_id].sort(),
    );
    expect(listed.body.data.find((session: { current: boolean }) => session.current)).toMatchObject({
      id: laptop.session_id,
      ip: user.ip,
      user_agent: 'aicloud-cli/1.0',
    });

    // The phone is lost: signed out from the laptop, its access and refresh tokens stop at once.
    const ended = await call('DELETE', `/api/auth/sessions/${phone.session_id}`, {
      token: laptop.access_token,
    });
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ id: phone.session_id, current: false, revoked: true });
    expect((await call('GET', '/api/auth/me', { token: phone.access_token })).status).toBe(401);
    expect(
      (await call('POST', '/api/auth/refresh', { body: { refresh_token: phone.refresh_token } })).status,
    ).toBe(401);

    // Everywhere else: the first sign-in ends too, the laptop stays.
    const others = await call('POST', '/api/auth/sessions/revoke-others', { token: laptop.access_token });
    expect(others.body).toEqual({ object: 'sessions_revoked', revoked: 1 });
    expect((await call('GET', '/api/auth/me', { token: user.token })).status).toBe(401);
    const left = await call('GET', '/api/auth/sessions', { token: laptop.access_token });
    expect(left.body.data).toEqual([expect.objectContaining({ id: laptop.session_id, current: true })]);
  });

  it('changes the password with the current one, ending every other session and telling the address', async () => {
    const user = await signUp('change-password');
    const headers = { 'cf-connecting-ip': user.ip };
    const laptop = (
      await call('POST', '/api/auth/login', { body: { email: user.email, password: PASSWORD }, headers })
    ).body;
    const changed = await call('POST', '/api/auth/password', {
      token: laptop.access_token,
      body: { current_password: PASSWORD, new_password: 'a newer, longer passphrase' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ status: 'changed', sessions_signed_out: 1 });
    // This session goes on; the other one (the sign-up's) has ended.
    expect((await call('GET', '/api/auth/me', { token: laptop.access_token })).status).toBe(200);
    expect((await call('GET', '/api/auth/me', { token: user.token })).status).toBe(401);
    const logIn = (password: string) =>
      call('POST', '/api/auth/login', { body: { email: user.email, password }, headers });
    expect((await logIn(PASSWORD)).status).toBe(401);
    expect((await logIn('a newer, longer passphrase')).status).toBe(200);
    await expect
      .poll(async () => (await outbox(user.email)).map((mail) => mail.subject), { timeout: 10_000 })
      .toContain('Your AI Cloud password was changed');
  });
});
