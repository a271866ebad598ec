import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, prefixedId } from './columns.ts';
import { endpoints } from './endpoints.ts';
import { replicaStateEnum } from './enums.ts';
import { orgs } from './orgs.ts';
import { replicas } from './replicas.ts';

/** Each step of a replica's life, shown in its deployment's event log (`requested` … `released`). */
export const replicaEvents = pgTable(
  'replica_events',
  {
    id: prefixedId('replicaEvent'),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => endpoints.id),
    replicaId: text('replica_id')
      .notNull()
      .references(() => replicas.id),
    state: replicaStateEnum('state').notNull(),
    /** Why, when it is worth saying: the GPU type it runs on, the reason it failed or was released. */
    detail: text('detail'),
    createdAt: createdAt(),
  },
  (t) => [
    index('replica_events_endpoint_idx').on(t.endpointId, t.id),
    // How long a replica has been releasing (the orchestrator's retry of cut-short releases).
    index('replica_events_replica_idx').on(t.replicaId, t.state),
  ],
);
