/** Member roles, most to least privileged. What each may do is decided by the accounts issue's policy table. */
export const ROLES = ['owner', 'admin', 'developer', 'billing', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
