import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  call,
  env,
  freshIp,
  linkToken,
  outbox,
  PASSWORD,
  signUp,
  uniqueEmail,
} from '../../../tests/harness/edge.ts';
import { configureNeonDriver, createDatabase } from '../../lib/db.ts';

configureNeonDriver({ proxyUrl: env.NEON_PROXY_URL, webSocketConstructor: WebSocket });
const database = createDatabase(env.DATABASE_URL ?? '');
afterAll(() => database.close());

const usersWithEmail = async (email: string) => {
  const result = await database.db.execute(
    sql`select count(*)::int as n from users where lower(email) = ${email}`,
  );
  return (result.rows[0] as { n: number }).n;
};

const openAiError = (type: string) => ({
  error: {
    message: expect.any(String),
    type,
    param: expect.toBeOneOf([expect.any(String), null]),
    code: expect.any(String),
  },
});

describe('registration with bad input', () => {
  const cases: [string, { body?: unknown; raw?: string; contentType?: string }, number, string | null][] = [
    ['malformed JSON', { raw: '{"email": ', contentType: 'application/json' }, 400, null],
    [
      'a form post',
      { raw: 'email=a%40b.c&password=x', contentType: 'application/x-www-form-urlencoded' },
      415,
      null,
    ],
    ['a missing password', { body: { email: 'missing-password@example.com' } }, 400, 'password'],
    ['an invalid email', { body: { email: 'not-an-email', password: PASSWORD } }, 400, 'email'],
    [
      'an over-long email',
      { body: { email: `${'a'.repeat(260)}@example.com`, password: PASSWORD } },
      400,
      'email',
    ],
    ['a short password', { body: { email: 'short@example.com', password: 'short' } }, 400, 'password'],
    [
      'an over-long name',
      { body: { email: 'long-name@example.com', password: PASSWORD, name: 'x'.repeat(101) } },
      400,
      'name',
    ],
    [
      'a NUL in the name',
      { body: { email: 'nul-name@example.com', password: PASSWORD, name: 'a\u0000b' } },
      400,
      'name',
    ],
    [
      'a wrongly typed field',
      { body: { email: 'typed@example.com', password: 1234567890123 } },
      400,
      'password',
    ],
    [
      'an unknown field',
      { body: { email: 'unknown-field@example.com', password: PASSWORD, plan: 'free' } },
      400,
      null,
    ],
    [
      'a text-direction override in the name',
      { body: { email: 'bidi-name@example.com', password: PASSWORD, name: 'Ada \u202eecnalaB' } },
      400,
      'name',
    ],
  ];
  for (const [what, request, status, param] of cases) {
    it(`answers ${status} for ${what} and stores nothing`, async () => {
      const response = await call('POST', '/api/auth/register', {
        body: request.raw ?? request.body,
        headers: { 'content-type': request.contentType ?? 'application/json', 'cf-connecting-ip': freshIp() },
      });
      expect(response.status).toBe(status);
      expect(response.body).toEqual(openAiError('invalid_request_error'));
      if (param) expect(response.body.error.param).toBe(param);
    });
  }

  it('refuses a body over 64 KiB with 413', async () => {
    const response = await call('POST', '/api/auth/register', {
      body: { email: 'big@example.com', password: PASSWORD, name: 'x'.repeat(70_000) },
    });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('payload_too_large');
    expect(await usersWithEmail('big@example.com')).toBe(0);
  });

  it('answers an existing address exactly like a new one, and emails its owner instead', async () => {
    const user = await signUp('existing');
    const again = await call('POST', '/api/auth/register', {
      body: { email: user.email, password: 'someone else entirely' },
      headers: { 'cf-connecting-ip': freshIp() },
    });
    expect(again.status).toBe(202);
    const fresh = await call('POST', '/api/auth/register', {
      body: { email: uniqueEmail('fresh'), password: PASSWORD },
      headers: { 'cf-connecting-ip': freshIp() },
    });
    expect(again.body).toEqual(fresh.body);
    expect(await usersWithEmail(user.email)).toBe(1);
    const [latest] = await outbox(user.email);
    expect(latest?.subject).toBe('You already have an AI Cloud account');
  });
});

describe('logging in', () => {
  it('gives one generic answer for an unknown address and a wrong password', async () => {
    const user = await signUp('generic');
    const headers = { 'cf-connecting-ip': freshIp() };
    const wrong = await call('POST', '/api/auth/login', {
      body: { email: user.email, password: 'wrong password!' },
      headers,
    });
    const unknown = await call('POST', '/api/auth/login', {
      body: { email: uniqueEmail('nobody'), password: 'wrong password!' },
      headers,
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error.message).toBe('Incorrect email or password.');
  });

  it('throttles guessing on one address from one client with 429, without locking its owner out', async () => {
    const user = await signUp('throttle');
    const attacker = { 'cf-connecting-ip': freshIp() };
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 10; attempt++) {
      const response = await call('POST', '/api/auth/login', {
        body: { email: user.email, password: `guess number ${attempt}` },
        headers: attacker,
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual(Array(10).fill(401));
    // The 11th try from that client is refused, even with the right password...
    const blocked = await call('POST', '/api/auth/login', {
      body: { email: user.email, password: PASSWORD },
      headers: attacker,
    });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(blocked.body.error.type).toBe('rate_limit_error');
    // ...while the owner, from their own client, still signs in.
    const owner = await call('POST', '/api/auth/login', {
      body: { email: user.email, password: PASSWORD },
      headers: { 'cf-connecting-ip': user.ip },
    });
    expect(owner.status).toBe(200);
  });
});

describe('password resets', () => {
  it('answers a flood of reset requests for an address alike, sending no more past its limit, so its owner is never locked out', async () => {
    const user = await signUp('reset-flood');
    const resetLinks = async () =>
      (await outbox(user.email)).filter((mail) => mail.text.includes('/reset-password')).length;
    // A stranger asks for this address's resets from many clients; then its owner asks.
    for (const ip of [freshIp(), freshIp(), freshIp(), freshIp(), freshIp(), freshIp(), user.ip]) {
      const asked = await call('POST', '/api/auth/password-reset', {
        body: { email: user.email },
        headers: { 'cf-connecting-ip': ip },
      });
      expect(asked.status).toBe(202);
    }
    // Five links an hour per address, the verification email among them: four resets went out.
    await expect.poll(resetLinks, { timeout: 10_000 }).toBe(4);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await resetLinks()).toBe(4);
    // The newest of them works for the owner.
    const reset = await call('POST', '/api/auth/password-reset/confirm', {
      body: { token: await linkToken(user.email, '/reset-password'), password: 'another good passphrase' },
    });
    expect(reset.status).toBe(200);
  });
});

describe('changing the password', () => {
  it('needs the current password, a new one that differs, a person, and limits guesses', async () => {
    const user = await signUp('change-bad');
    const change = (body: unknown, token = user.token) => call('POST', '/api/auth/password', { token, body });
    for (const [body, param] of [
      [{ current_password: 'not the password', new_password: 'a perfectly fine one' }, 'current_password'],
      [{ current_password: PASSWORD, new_password: PASSWORD }, 'new_password'],
      [{ current_password: PASSWORD, new_password: 'short' }, 'new_password'],
      [{ current_password: PASSWORD }, 'new_password'],
    ] as const) {
      const refused = await change(body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', param });
    }
    const key = (await call('POST', '/api/auth/api-keys', { token: user.token, body: { name: 'ci' } })).body
      .key;
    expect(
      (await change({ current_password: PASSWORD, new_password: 'a perfectly fine one' }, key)).status,
    ).toBe(403);
    // Ten tries at the current password in 15 minutes (the wrong one above is the first), then 429,
    // even with the right one.
    const statuses: number[] = [];
    for (let guess = 1; guess < 10; guess++) {
      statuses.push(
        (await change({ current_password: `guess ${guess}`, new_password: 'a perfectly fine one' })).status,
      );
    }
    expect(new Set(statuses)).toEqual(new Set([400]));
    expect((await change({ current_password: PASSWORD, new_password: 'a perfectly fine one' })).status).toBe(
      429,
    );
    // Nothing changed: the old password still signs in.
    const login = await call('POST', '/api/auth/login', {
      body: { email: user.email, password: PASSWORD },
      headers: { 'cf-connecting-ip': user.ip },
    });
    expect(login.status).toBe(200);
  });
});

describe('tokens', () => {
  it('refuses expired-looking, tampered and missing credentials with 401', async () => {
    const user = await signUp('tokens');
    const [header, payload] = user.token.split('.');
    for (const token of [`${header}.${payload}.invalidsignature`, 'garbage', `${user.token}x`]) {
      const response = await call('GET', '/api/auth/me', { token });
      expect(response.status).toBe(401);
      expect(response.body.error.type).toBe('authentication_error');
    }
    expect((await call('GET', '/api/auth/me')).status).toBe(401);
    expect(
      (await call('GET', '/api/auth/me', { headers: { authorization: 'Basic dXNlcjpwYXNz' } })).status,
    ).toBe(401);
  });

  it('revokes the whole session when a used refresh token comes back later', async () => {
    const user = await signUp('reuse');
    const first = await call('POST', '/api/auth/refresh', { body: { refresh_token: user.refreshToken } });
    expect(first.status).toBe(200);
    // A second tab refreshing with the same token at the same moment is not a thief.
    const concurrent = await call('POST', '/api/auth/refresh', {
      body: { refresh_token: user.refreshToken },
    });
    expect(concurrent.status).toBe(200);
    expect(concurrent.body.refresh_token).not.toBe(first.body.refresh_token);

    // A minute later, the same token can only be a copy.
    await database.db.execute(
      sql`update refresh_tokens set used_at = now() - interval '1 minute' where session_id = ${user.sessionId} and used_at is not null`,
    );
    const replay = await call('POST', '/api/auth/refresh', { body: { refresh_token: user.refreshToken } });
    expect(replay.status).toBe(401);
    // The thief's replay ended the legitimate holder's session too.
    expect(
      (await call('POST', '/api/auth/refresh', { body: { refresh_token: first.body.refresh_token } })).status,
    ).toBe(401);
    expect((await call('GET', '/api/auth/me', { token: first.body.access_token })).status).toBe(401);
  });

  it('accepts an emailed link once, and never a made-up one', async () => {
    const user = await signUp('links', { verify: false });
    const token = await linkToken(user.email, '/verify-email');
    const headers = { 'cf-connecting-ip': user.ip };
    const verify = (body: Record<string, unknown>) =>
      call('POST', '/api/auth/verify-email', { body, headers });
    expect((await verify({ token, password: PASSWORD })).status).toBe(200);
    const again = await verify({ token, password: PASSWORD });
    expect(again.status).toBe(400);
    expect(again.body.error.param).toBe('token');
    expect((await verify({ token: 'A'.repeat(43), password: PASSWORD })).status).toBe(400);
    expect((await verify({ token: 'bad token!', password: PASSWORD })).status).toBe(400);
    expect((await verify({ token })).body.error.param).toBe('password');
  });

  it('verifies an address only for whoever knows the account’s password (no pre-hijacking)', async () => {
    // Someone registers another person's address, and the link reaches its owner, who clicks it.
    const squatted = await signUp('squatted', { verify: false });
    const token = await linkToken(squatted.email, '/verify-email');
    const headers = { 'cf-connecting-ip': squatted.ip };
    const guessed = await call('POST', '/api/auth/verify-email', {
      body: { token, password: 'not the squatter’s password' },
      headers,
    });
    expect(guessed.status).toBe(400);
    expect(guessed.body.error).toMatchObject({
      param: 'password',
      message: expect.stringContaining('ignore the email'),
    });
    const me = await call('GET', '/api/auth/me', { token: squatted.token });
    expect(me.body.user.email_verified).toBe(false);
    // The link still works for the one who signed up; a wrong guess did not spend it.
    expect(
      (await call('POST', '/api/auth/verify-email', { body: { token, password: PASSWORD } })).status,
    ).toBe(200);
  });

  it('limits password guesses on one verification link', async () => {
    const user = await signUp('guessed-link', { verify: false });
    const token = await linkToken(user.email, '/verify-email');
    const statuses: number[] = [];
    // Each guess from another client address: the limit is the link's, not only the client's.
    for (let i = 0; i < 6; i++) {
      const headers = { 'cf-connecting-ip': freshIp() };
      statuses.push(
        (await call('POST', '/api/auth/verify-email', { body: { token, password: `guess-${i}` }, headers }))
          .status,
      );
    }
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429]);
    // Even the right password waits out the window now.
    expect(
      (await call('POST', '/api/auth/verify-email', { body: { token, password: PASSWORD } })).status,
    ).toBe(429);
  });

  it('keeps unverified accounts from minting keys, orgs or invitations', async () => {
    const user = await signUp('unverified', { verify: false });
    for (const [path, body] of [
      ['/api/auth/api-keys', { name: 'ci' }],
      ['/api/orgs', { name: 'Team' }],
      ['/api/org/invitations', { email: uniqueEmail('friend'), role: 'viewer' }],
    ] as const) {
      const response = await call('POST', path, { token: user.token, body });
      expect(response.status).toBe(403);
      expect(response.body.error.message).toContain('Verify your email address');
    }
  });
});

describe('sessions', () => {
  it('signs out only the user’s own live sessions, and never by an API key', async () => {
    const user = await signUp('session-owner');
    const stranger = await signUp('session-stranger');
    for (const id of [stranger.sessionId, 'ses_doesnotexist', 'x'.repeat(64)]) {
      const refused = await call('DELETE', `/api/auth/sessions/${id}`, { token: user.token });
      expect(refused.status).toBe(404);
      expect(refused.body.error).toMatchObject({ type: 'not_found_error', param: 'id' });
    }
    expect((await call('DELETE', `/api/auth/sessions/${'x'.repeat(65)}`, { token: user.token })).status).toBe(
      400,
    );
    // The stranger is still signed in.
    expect((await call('GET', '/api/auth/me', { token: stranger.token })).status).toBe(200);

    const key = await call('POST', '/api/auth/api-keys', { token: user.token, body: { name: 'ci' } });
    for (const [method, path] of [
      ['GET', '/api/auth/sessions'],
      ['POST', '/api/auth/sessions/revoke-others'],
      ['DELETE', `/api/auth/sessions/${user.sessionId}`],
    ] as const) {
      const refused = await call(method, path, { token: key.body.key });
      expect(refused.status, `${method} ${path}`).toBe(403);
    }
    expect((await call('GET', '/api/auth/sessions')).status).toBe(401);

    // Signing out the current session is logging out; a second time finds nothing to end.
    expect((await call('DELETE', `/api/auth/sessions/${user.sessionId}`, { token: user.token })).status).toBe(
      200,
    );
    expect((await call('GET', '/api/auth/me', { token: user.token })).status).toBe(401);
  });
});
