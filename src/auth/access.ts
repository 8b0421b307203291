import type { OperationTypeNode } from 'graphql';
import { ForbiddenError, UnauthenticatedError } from '../common/errors';
import type { Principal } from './tokens';

/**
 * The one access rule, applied to HTTP and websocket operations alike: admins may do
 * everything; viewers may read (queries) and subscribe, never write (mutations).
 */
export function assertMayRun(principal: Principal | undefined, operation: OperationTypeNode | 'query' | 'mutation' | 'subscription'): void {
  if (!principal) throw new UnauthenticatedError();
  if (operation === 'mutation' && principal.role !== 'admin') {
    throw new ForbiddenError(`role ${principal.role} may not run mutations`);
  }
}
