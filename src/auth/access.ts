import type { OperationTypeNode } from 'graphql';
import { ForbiddenError, UnauthenticatedError } from '../common/errors';
import type { Role } from '../config';
import type { Principal } from './tokens';

/** Whether a role may write (run mutations): admins only. */
export const mayRunMutations = (role: Role): boolean => role === 'admin';

/**
 * The one access rule, applied to HTTP and websocket operations alike: admins may do
 * everything; viewers may read (queries) and subscribe, never write (mutations).
 */
export function assertMayRun(principal: Principal | undefined, operation: OperationTypeNode | 'query' | 'mutation' | 'subscription'): void {
  if (!principal) throw new UnauthenticatedError();
  if (operation === 'mutation' && !mayRunMutations(principal.role)) {
    throw new ForbiddenError(`role ${principal.role} may not run mutations`);
  }
}
