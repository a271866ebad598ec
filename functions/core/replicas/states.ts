/** `requested → provisioning → active → releasing → released`, plus `failed` / `release_failed` (DESIGN §3). */
export const REPLICA_STATES = [
  'requested',
  'provisioning',
  'active',
  'releasing',
  'released',
  'failed',
  'release_failed',
] as const;
export type ReplicaState = (typeof REPLICA_STATES)[number];
