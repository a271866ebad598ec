import { afterAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../tests/harness/context.ts';
import { testDatabase } from '../../../tests/harness/db.ts';
import { call, signUp } from '../../../tests/harness/edge.ts';
import type { Caller } from '../actor.ts';
import { recheckCaller } from './recheck.ts';

const database = testDatabase();
const { ctx } = testContext(database.db, { now: () => new Date() });
afterAll(() => database.close());

describe('recheckCaller (long-lived responses)', () => {
  it('keeps a caller whose credential still stands, and refuses one revoked since', async () => {
    const user = await signUp('recheck');
    const me = (await call('GET', '/api/auth/me', { token: user.token })).body;
    const userId = me.user.id as string;
    const key = (await call('POST', '/api/auth/api-keys', { token: user.token, body: { name: 'stream' } }))
      .body;
    const byKey: Caller = {
      orgId: me.org_id,
      actor: {
        type: 'api_key',
        keyId: key.id,
        kind: 'account',
        role: 'owner',
        createdByUserId: userId,
        capped: false,
      },
    };
    expect(await recheckCaller(ctx, byKey)).toEqual(byKey);
    await call('DELETE', `/api/auth/api-keys/${key.id}`, { token: user.token });
    await expect(recheckCaller(ctx, byKey)).rejects.toMatchObject({ code: 'unauthorized' });

    const [, payload] = user.token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as { sid: string };
    const bySession: Caller = {
      orgId: me.org_id,
      actor: { type: 'user', userId, sessionId: claims.sid, role: 'owner', emailVerified: true },
    };
    expect((await recheckCaller(ctx, bySession)).orgId).toBe(me.org_id);
    await call('POST', '/api/auth/logout', { token: user.token, body: {} });
    await expect(recheckCaller(ctx, bySession)).rejects.toMatchObject({ code: 'unauthorized' });
  });
});
