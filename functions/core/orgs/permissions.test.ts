import { describe, expect, it } from 'vitest';
import { canGrant, PERMISSIONS, roleAllows } from './permissions.ts';
import { ROLES } from './roles.ts';

describe('role permissions', () => {
  it('gives owners everything and viewers no writes', () => {
    for (const permission of Object.keys(PERMISSIONS) as (keyof typeof PERMISSIONS)[]) {
      expect(roleAllows('owner', permission)).toBe(true);
      if (!permission.endsWith('.read')) expect(roleAllows('viewer', permission)).toBe(false);
    }
  });

  it('keeps billing people out of endpoints and developers out of billing', () => {
    expect(roleAllows('billing', 'endpoint.manage')).toBe(false);
    expect(roleAllows('billing', 'billing.manage')).toBe(true);
    expect(roleAllows('developer', 'billing.read')).toBe(false);
    expect(roleAllows('developer', 'endpoint.manage')).toBe(true);
    expect(roleAllows('admin', 'org.delete')).toBe(false);
  });

  it('lets nobody grant a role with powers they lack', () => {
    const expected: Record<string, string[]> = {
      owner: [...ROLES],
      admin: ['admin', 'developer', 'viewer'],
      developer: ['developer', 'viewer'],
      billing: ['billing'],
      viewer: ['viewer'],
    };
    for (const granter of ROLES) {
      expect(ROLES.filter((role) => canGrant(granter, role))).toEqual(expected[granter]);
    }
  });
});
