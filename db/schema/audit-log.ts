import { index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, prefixedId } from './columns.ts';
import { actorTypeEnum } from './enums.ts';
import { orgs } from './orgs.ts';

/** Every mutation, written in the same transaction as the change it records. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: prefixedId('auditEvent'),
    orgId: text('org_id').references(() => orgs.id),
    actorType: actorTypeEnum('actor_type').notNull(),
    actorId: text('actor_id').notNull(),
    /** Dotted verb, e.g. `endpoint.create`, `api_key.revoke`. */
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id').notNull(),
    ip: text('ip'),
    userAgent: text('user_agent'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    index('audit_log_org_created_idx').on(t.orgId, t.createdAt),
    index('audit_log_target_idx').on(t.targetId),
  ],
);
