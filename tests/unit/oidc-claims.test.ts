import { describe, expect, it } from 'vitest';
import { claimAt, roleOf } from '../../src/auth/oidc';

describe('OIDC_ROLE_CLAIM', () => {
  const payload = {
    roles: ['viewer'],
    'https://herald.example/roles': 'admin',
    realm_access: { roles: ['offline_access', 'admin'] },
    resource_access: { herald: { roles: 'viewer other' } },
  };

  it('should read a top-level claim, also one whose name holds dots, before a dotted path', () => {
    expect(claimAt(payload, 'roles')).toEqual(['viewer']);
    expect(claimAt(payload, 'https://herald.example/roles')).toBe('admin');
    expect(claimAt(payload, 'realm_access.roles')).toEqual(['offline_access', 'admin']);
    expect(claimAt(payload, 'resource_access.herald.roles')).toBe('viewer other');
    expect(claimAt(payload, 'realm_access.missing')).toBeUndefined();
    expect(claimAt(payload, 'roles.length')).toBeUndefined();
  });

  it('should take admin over viewer, from a string, space-separated names or an array, and nothing else', () => {
    expect(roleOf('admin')).toBe('admin');
    expect(roleOf('viewer other')).toBe('viewer');
    expect(roleOf(['viewer', 'admin'])).toBe('admin');
    expect(roleOf(['Admin', 'superuser'])).toBeUndefined();
    expect(roleOf({ admin: true })).toBeUndefined();
    expect(roleOf(undefined)).toBeUndefined();
  });
});
