import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { testDatabase } from '../../../tests/harness/db.ts';
import { call, linkToken, PASSWORD, signUp, uniqueEmail } from '../../../tests/harness/edge.ts';

const database = testDatabase();
afterAll(() => database.close());

describe('teams with bad input', () => {
  it('refuses malformed org, role and invitation bodies with the field named', async () => {
    const owner = await signUp('team-bad');
    const org = (await call('POST', '/api/orgs', { token: owner.token, body: { name: 'Bad inputs' } })).body
      .id;
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/orgs', { name: '' }, 'name'],
      ['POST', '/api/orgs', { name: 'x'.repeat(101) }, 'name'],
      ['PATCH', '/api/org', { title: 'x' }, ''],
      ['POST', '/api/org/invitations', { email: 'not-an-email', role: 'viewer' }, 'email'],
      ['POST', '/api/org/invitations', { email: 'a@example.com', role: 'god' }, 'role'],
      ['PATCH', `/api/org/members/${owner.userId}`, { role: 'emperor' }, 'role'],
    ];
    for (const [method, path, body, param] of cases) {
      const response = await call(method, path, { token: owner.token, org, body });
      expect(response.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      if (param) expect(response.body.error.param).toBe(param);
    }
    for (const id of ['nonsense', 'usr_', `usr_${'1'.repeat(22)}`]) {
      expect((await call('DELETE', `/api/org/members/${id}`, { token: owner.token, org })).status).toBe(404);
    }
    expect((await call('GET', '/api/org', { token: owner.token, org: 'not-an-org-id' })).status).toBe(404);
    const members = await call('GET', '/api/org/members', { token: owner.token, org });
    expect(members.body.data).toHaveLength(1);
  });

  it('lets only the invited, verified address accept an invitation', async () => {
    const owner = await signUp('invite-owner');
    const invitee = await signUp('invitee', { verify: false });
    const bystander = await signUp('bystander');
    const org = (await call('POST', '/api/orgs', { token: owner.token, body: { name: 'Exclusive' } })).body
      .id;
    await call('POST', '/api/org/invitations', {
      token: owner.token,
      org,
      body: { email: invitee.email, role: 'admin' },
    });
    const token = await linkToken(invitee.email, '/invitations/accept');

    const forwarded = await call('POST', '/api/invitations/accept', {
      token: bystander.token,
      body: { token },
    });
    expect(forwarded.status).toBe(403);
    expect(forwarded.body.error.message).toContain(invitee.email);
    const unverified = await call('POST', '/api/invitations/accept', {
      token: invitee.token,
      body: { token },
    });
    expect(unverified.status).toBe(403);
    expect((await call('GET', '/api/org', { token: bystander.token, org })).status).toBe(404);

    // Inviting again replaces the open link: the first one stops working.
    await call('POST', '/api/org/invitations', {
      token: owner.token,
      org,
      body: { email: invitee.email, role: 'viewer' },
    });
    await call('POST', '/api/auth/verify-email', {
      body: { token: await linkToken(invitee.email, '/verify-email'), password: PASSWORD },
      headers: { 'cf-connecting-ip': invitee.ip },
    });
    expect(
      (await call('POST', '/api/invitations/accept', { token: invitee.token, body: { token } })).status,
    ).toBe(400);
    const fresh = await linkToken(invitee.email, '/invitations/accept');
    const joined = await call('POST', '/api/invitations/accept', {
      token: invitee.token,
      body: { token: fresh },
    });
    expect(joined.body).toMatchObject({ org_id: org, role: 'viewer' });
    const already = await call('POST', '/api/org/invitations', {
      token: owner.token,
      org,
      body: { email: invitee.email, role: 'viewer' },
    });
    expect(already.status).toBe(409);
  });
});

describe('what a member loses with a role', () => {
  it('revokes keys and invitations above a demoted member’s new role, and keeps what still fits', async () => {
    const owner = await signUp('demote-owner');
    const admin = await signUp('demote-admin');
    const org = (await call('POST', '/api/orgs', { token: owner.token, body: { name: 'Demotions' } })).body
      .id;
    await call('POST', '/api/org/invitations', {
      token: owner.token,
      org,
      body: { email: admin.email, role: 'admin' },
    });
    await call('POST', '/api/invitations/accept', {
      token: admin.token,
      body: { token: await linkToken(admin.email, '/invitations/accept') },
    });
    const adminKeyCreated = (
      await call('POST', '/api/auth/api-keys', {
        token: admin.token,
        org,
        body: { name: 'a', role: 'admin' },
      })
    ).body;
    const adminKey = adminKeyCreated.key;
    const devKey = (
      await call('POST', '/api/auth/api-keys', {
        token: admin.token,
        org,
        body: { name: 'd', role: 'developer' },
      })
    ).body.key;
    const invitation = await call('POST', '/api/org/invitations', {
      token: admin.token,
      org,
      body: { email: uniqueEmail('second-self'), role: 'admin' },
    });
    expect(invitation.status).toBe(201);

    const demoted = await call('PATCH', `/api/org/members/${admin.userId}`, {
      token: owner.token,
      org,
      body: { role: 'developer' },
    });
    expect(demoted.status).toBe(200);
    expect((await call('GET', '/api/org', { token: adminKey })).status).toBe(401);
    expect((await call('GET', '/api/org', { token: devKey })).status).toBe(200);
    expect((await call('GET', '/api/org/invitations', { token: owner.token, org })).body.data).toEqual([]);
    const audit = await call('GET', `/api/audit?action=member.update_role`, { token: owner.token, org });
    expect(audit.body.data[0].metadata).toMatchObject({
      from: 'admin',
      to: 'developer',
      revokedKeys: 1,
      revokedInvitations: 1,
    });
    // The key's own trail says why it ended, and so does the invitation's.
    const keyTrail = await call('GET', `/api/audit?target_id=${adminKeyCreated.id}`, {
      token: owner.token,
      org,
    });
    expect(keyTrail.body.data[0]).toMatchObject({
      action: 'api_key.revoke',
      metadata: { reason: 'member_demoted', userId: admin.userId },
    });
    const invitationTrail = await call('GET', `/api/audit?target_id=${invitation.body.id}`, {
      token: owner.token,
      org,
    });
    expect(invitationTrail.body.data[0]).toMatchObject({
      action: 'invitation.revoke',
      metadata: { reason: 'member_demoted' },
    });
  });

  it('never lets a co-owner take a personal org from its user', async () => {
    const user = await signUp('personal');
    const coOwner = await signUp('co-owner');
    const personal = (await call('GET', '/api/auth/me', { token: user.token })).body.org_id;
    await call('POST', '/api/org/invitations', {
      token: user.token,
      body: { email: coOwner.email, role: 'owner' },
    });
    await call('POST', '/api/invitations/accept', {
      token: coOwner.token,
      body: { token: await linkToken(coOwner.email, '/invitations/accept') },
    });
    const removal = await call('DELETE', `/api/org/members/${user.userId}`, {
      token: coOwner.token,
      org: personal,
    });
    expect(removal.status).toBe(409);
    const demotion = await call('PATCH', `/api/org/members/${user.userId}`, {
      token: coOwner.token,
      org: personal,
      body: { role: 'viewer' },
    });
    expect(demotion.status).toBe(409);
    expect((await call('GET', '/api/auth/me', { token: user.token })).body.role).toBe('owner');
    // The co-owner can still leave.
    expect(
      (await call('DELETE', `/api/org/members/${coOwner.userId}`, { token: coOwner.token, org: personal }))
        .status,
    ).toBe(204);
  });
});

describe('secrets stay out of logs', () => {
  const lines: string[] = [];
  const capture = (...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  };
  const spies = [
    vi.spyOn(console, 'log').mockImplementation(capture),
    vi.spyOn(console, 'warn').mockImplementation(capture),
    vi.spyOn(console, 'error').mockImplementation(capture),
  ];
  afterAll(() => {
    for (const spy of spies) spy.mockRestore();
  });

  it('never logs a password, an API key or a token, even on failures', async () => {
    const user = await signUp('logs');
    const key = (
      await call('POST', '/api/auth/api-keys', { token: user.token, body: { name: 'secret key' } })
    ).body.key;
    await call('GET', '/api/org', { token: `${key.slice(0, -1)}x` });
    await call('POST', '/api/auth/login', {
      body: { email: user.email, password: 'wrong-but-secret-password' },
    });
    await call('POST', '/api/auth/register', { body: { email: uniqueEmail('logs'), password: 'short' } });
    await call('POST', '/api/auth/refresh', { body: { refresh_token: user.refreshToken } });
    await database.db.execute(
      sql`update refresh_tokens set used_at = now() - interval '1 minute' where session_id = ${user.sessionId} and used_at is not null`,
    );
    await call('POST', '/api/auth/refresh', { body: { refresh_token: user.refreshToken } });
    const all = lines.join('\n');
    for (const secret of [
      PASSWORD,
      'wrong-but-secret-password',
      key,
      key.slice(8, -6),
      user.token,
      user.refreshToken,
    ]) {
      expect(all).not.toContain(secret);
    }
    expect(all).toContain('refresh token reused');
  });
});
