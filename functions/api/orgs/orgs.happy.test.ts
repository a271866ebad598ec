import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { billingAccounts, endpoints } from '../../../db/schema/index.ts';
import { testDatabase } from '../../../tests/harness/db.ts';
import { call, linkToken, signUp } from '../../../tests/harness/edge.ts';

const database = testDatabase();

describe('teams: orgs, invitations, roles', () => {
  it('creates a team, invites by email, and the invitee joins with the role', async () => {
    const owner = await signUp('team-owner');
    const invitee = await signUp('team-invitee');
    const team = await call('POST', '/api/orgs', { token: owner.token, body: { name: 'Acme Research' } });
    expect(team.status).toBe(201);
    expect(team.body).toMatchObject({
      object: 'organization',
      name: 'Acme Research',
      personal: false,
      role: 'owner',
    });
    expect(team.body.slug).toMatch(/^acme-research-[a-z0-9]+$/);
    const org = team.body.id;

    const mine = await call('GET', '/api/orgs', { token: owner.token });
    expect(mine.body.data.map((o: { id: string }) => o.id)).toContain(org);

    const invited = await call('POST', '/api/org/invitations', {
      token: owner.token,
      org,
      body: { email: invitee.email.toUpperCase(), role: 'developer' },
    });
    expect(invited.status).toBe(201);
    expect(invited.body).toMatchObject({ object: 'invitation', email: invitee.email, role: 'developer' });
    expect((await call('GET', '/api/org/invitations', { token: owner.token, org })).body.data).toHaveLength(
      1,
    );

    // Until they join, the invitee cannot act in the team.
    expect((await call('GET', '/api/org', { token: invitee.token, org })).status).toBe(404);
    const token = await linkToken(invitee.email, '/invitations/accept');
    const accepted = await call('POST', '/api/invitations/accept', { token: invitee.token, body: { token } });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({ org_id: org, role: 'developer' });
    expect(
      (await call('POST', '/api/invitations/accept', { token: invitee.token, body: { token } })).status,
    ).toBe(400);

    const asInvitee = await call('GET', '/api/org', { token: invitee.token, org });
    expect(asInvitee.body).toMatchObject({ id: org, role: 'developer' });
    const members = await call('GET', '/api/org/members', { token: invitee.token, org });
    expect(members.body.data.map((m: { email: string; role: string }) => [m.email, m.role]).sort()).toEqual(
      [
        [owner.email, 'owner'],
        [invitee.email, 'developer'],
      ].sort(),
    );
    expect((await call('GET', '/api/org/invitations', { token: owner.token, org })).body.data).toEqual([]);
  });

  it('changes roles, keeps one owner, and revokes a removed member’s account keys', async () => {
    const owner = await signUp('roles-owner');
    const member = await signUp('roles-member');
    const org = (await call('POST', '/api/orgs', { token: owner.token, body: { name: 'Roles' } })).body.id;
    await call('POST', '/api/org/invitations', {
      token: owner.token,
      org,
      body: { email: member.email, role: 'admin' },
    });
    await call('POST', '/api/invitations/accept', {
      token: member.token,
      body: { token: await linkToken(member.email, '/invitations/accept') },
    });

    // The only owner cannot step down or leave.
    const demoteSelf = await call('PATCH', `/api/org/members/${owner.userId}`, {
      token: owner.token,
      org,
      body: { role: 'admin' },
    });
    expect(demoteSelf.status).toBe(409);
    expect(
      (await call('DELETE', `/api/org/members/${owner.userId}`, { token: owner.token, org })).status,
    ).toBe(409);
    // An admin cannot touch the owner.
    expect(
      (
        await call('PATCH', `/api/org/members/${owner.userId}`, {
          token: member.token,
          org,
          body: { role: 'viewer' },
        })
      ).status,
    ).toBe(403);

    const memberKey = (
      await call('POST', '/api/auth/api-keys', { token: member.token, org, body: { name: 'admin key' } })
    ).body.key;
    expect((await call('GET', '/api/org', { token: memberKey })).status).toBe(200);
    // An invitation sent with the admin's key is the admin's: it goes when the admin's authority does.
    const keyInvitation = await call('POST', '/api/org/invitations', {
      token: memberKey,
      body: { email: 'second-self@example.com', role: 'admin' },
    });
    expect(keyInvitation.status).toBe(201);
    expect(keyInvitation.body.invited_by_user_id).toBe(member.userId);

    const changed = await call('PATCH', `/api/org/members/${member.userId}`, {
      token: owner.token,
      org,
      body: { role: 'viewer' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ user_id: member.userId, role: 'viewer' });
    expect(
      (
        await call('POST', '/api/org/invitations', {
          token: member.token,
          org,
          body: { email: 'x@example.com', role: 'viewer' },
        })
      ).status,
    ).toBe(403);

    expect(
      (await call('DELETE', `/api/org/members/${member.userId}`, { token: owner.token, org })).status,
    ).toBe(204);
    const pending = await call('GET', '/api/org/invitations', { token: owner.token, org });
    expect(pending.body.data.map((i: { id: string }) => i.id)).not.toContain(keyInvitation.body.id);
    expect((await call('GET', '/api/org', { token: member.token, org })).status).toBe(404);
    expect((await call('GET', '/api/org', { token: memberKey })).status).toBe(401);
  });

  it('renames and deletes a team (its keys, deployments and auto-refill go with it) but never a personal org', async () => {
    const owner = await signUp('delete-owner');
    const org = (await call('POST', '/api/orgs', { token: owner.token, body: { name: 'Short lived' } })).body
      .id;
    const renamed = await call('PATCH', '/api/org', { token: owner.token, org, body: { name: 'Renamed' } });
    expect(renamed.body.name).toBe('Renamed');
    const key = (
      await call('POST', '/api/auth/api-keys', { token: owner.token, org, body: { name: 'team key' } })
    ).body.key;
    const deployment = await call('POST', '/api/deployments', {
      token: owner.token,
      org,
      body: { model: 'llama-3.1-8b-instruct', min_replicas: 1 },
    });
    expect(deployment.status).toBe(201);
    await database.db.insert(billingAccounts).values({ orgId: org, autoRefillEnabled: true });

    expect((await call('DELETE', '/api/org', { token: owner.token })).status).toBe(409);
    expect((await call('DELETE', '/api/org', { token: owner.token, org })).status).toBe(204);
    expect((await call('GET', '/api/org', { token: owner.token, org })).status).toBe(404);
    expect((await call('GET', '/api/org', { token: key })).status).toBe(401);
    const mine = await call('GET', '/api/orgs', { token: owner.token });
    expect(mine.body.data.map((o: { id: string }) => o.id)).not.toContain(org);
    // Nobody can reach the org any more, so nothing of it may keep running or charging the card.
    const [endpoint] = await database.db.select().from(endpoints).where(eq(endpoints.id, deployment.body.id));
    expect(endpoint).toMatchObject({ state: 'stopped', deletedAt: expect.any(Date) });
    const [account] = await database.db.select().from(billingAccounts).where(eq(billingAccounts.orgId, org));
    expect(account?.autoRefillEnabled).toBe(false);
  });

  it('records every change in the audit log, with actor, target and client address', async () => {
    const owner = await signUp('audit');
    const headers = { 'cf-connecting-ip': '203.0.113.7', 'user-agent': 'audit-test/1.0' };
    const key = (
      await call('POST', '/api/auth/api-keys', { token: owner.token, body: { name: 'audited' }, headers })
    ).body;
    await call('DELETE', `/api/auth/api-keys/${key.id}`, { token: owner.token, headers });
    const log = await call('GET', '/api/audit?limit=2', { token: owner.token });
    expect(log.status).toBe(200);
    expect(log.body.has_more).toBe(true);
    expect(log.body.data.map((e: { action: string }) => e.action)).toEqual([
      'api_key.revoke',
      'api_key.create',
    ]);
    expect(log.body.data[0]).toMatchObject({
      actor: { type: 'user', id: owner.userId },
      target: { type: 'api_key', id: key.id },
      ip: '203.0.113.7',
      user_agent: 'audit-test/1.0',
    });
    expect(JSON.stringify(log.body)).not.toContain(key.key);
    const older = await call('GET', `/api/audit?after=${log.body.data[1].id}`, { token: owner.token });
    expect(older.body.data.map((e: { action: string }) => e.action)).toContain('user.register');
    const filtered = await call('GET', `/api/audit?target_id=${key.id}`, { token: owner.token });
    expect(filtered.body.data).toHaveLength(2);
  });
});
