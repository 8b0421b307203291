import { Field, ObjectType, registerEnumType } from 'type-graphql';
import type { Role as RoleValue } from '../config';

export const Role = { ADMIN: 'admin', VIEWER: 'viewer' } as const satisfies Record<string, RoleValue>;
registerEnumType(Role, { name: 'Role', description: 'ADMIN: may do everything. VIEWER: may query and subscribe, not run mutations.' });

@ObjectType({ description: 'Who is asking: what the token grants.' })
export class Principal {
  @Field(() => Role) role!: RoleValue;
}
