import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { users } from '../../../db/schema/index.ts';
import { testContext } from '../../../tests/harness/context.ts';
import { testDatabase } from '../../../tests/harness/db.ts';
import { PASSWORD, signUp } from '../../../tests/harness/edge.ts';
import type { ServiceContext } from '../../context.ts';
import { changePassword } from './change-password.ts';
import { hashPassword } from './passwords.ts';

const database = testDatabase();
afterAll(() => database.close());

describe('changing the password while a reset lands', () => {
  it('keeps the password the reset set when it commits between the check and the change', async () => {
    const user = await signUp('change-race');
    const resetHash = await hashPassword('the owner reset it to this');
    // The owner's reset commits just as this change starts writing.
    const db = new Proxy(database.db, {
      get(target, property, receiver) {
        if (property !== 'transaction') return Reflect.get(target, property, receiver);
        return async (...args: Parameters<typeof target.transaction>) => {
          await target.update(users).set({ passwordHash: resetHash }).where(eq(users.id, user.userId));
          return target.transaction(...args);
        };
      },
    });
    const { ctx } = testContext(db as ServiceContext['db'], { now: () => new Date() });
    Object.assign(ctx, {
      caller: {
        orgId: 'org_unused',
        actor: {
          type: 'user',
          userId: user.userId,
          sessionId: user.sessionId,
          role: 'owner',
          emailVerified: true,
        },
      },
      origin: { ip: null, userAgent: null },
    });
    await expect(
      changePassword({
        ctx,
        input: { current_password: PASSWORD, new_password: 'the stolen session sets this' },
      }),
    ).rejects.toMatchObject({ code: 'conflict' });
    const [row] = await database.db.select().from(users).where(eq(users.id, user.userId));
    expect(row?.passwordHash).toBe(resetHash);
  });
});
