import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { apiKeys, memberships } from '../../../db/schema/index.ts';
import { testContext } from '../../../tests/harness/context.ts';
import { testDatabase } from '../../../tests/harness/db.ts';
import { call, signUp } from '../../../tests/harness/edge.ts';
import type { ServiceContext } from '../../context.ts';
import type { Caller } from '../actor.ts';
import { createApiKey } from '../api-keys/create.ts';
import { createInvitation } from './invitations.ts';

const database = testDatabase();
const { ctx } = testContext(database.db, { now: () => new Date() });
afterAll(() => database.close());

/**
 * A request authorized as its org's owner, whose owner was demoted to viewer after that (the
 * demotion, and its sweep of keys and invitations, committed before the request's own writes).
 */
async function authorizedThenDemoted(label: string) {
  const user = await signUp(label);
  const me = (await call('GET', '/api/auth/me', { token: user.token })).body;
  const caller: Caller = {
    orgId: me.org_id,
    actor: { type: 'user', userId: me.user.id, sessionId: 'ses_x', role: 'owner', emailVerified: true },
  };
  await database.db
    .update(memberships)
    .set({ role: 'viewer' })
    .where(and(eq(memberships.orgId, me.org_id), eq(memberships.userId, me.user.id)));
  return {
    services: { ...ctx, caller, origin: { ip: null, userAgent: null } } as ServiceContext,
    orgId: me.org_id,
  };
}

describe('authority granted inside a transaction', () => {
  it('is the role held when the grant is written: a member demoted meanwhile mints no admin key', async () => {
    const { services, orgId } = await authorizedThenDemoted('authority-key');
    await expect(
      createApiKey({ ctx: services, input: { name: 'escape hatch', role: 'admin' } }),
    ).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect(await database.db.select().from(apiKeys).where(eq(apiKeys.orgId, orgId))).toEqual([]);
  });

  it('is the role held when the invitation is written: a member demoted meanwhile invites nobody', async () => {
    const { services } = await authorizedThenDemoted('authority-invite');
    await expect(
      createInvitation({ ctx: services, input: { email: 'back-door@example.com', role: 'admin' } }),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });
});
