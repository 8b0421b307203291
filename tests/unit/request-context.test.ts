import { describe, expect, it } from 'vitest';
import { eventContext, requestContext, type Services } from '../../src/api/context';

// The contract only passes services through; none of them is used here.
const services = { db: {}, log: {} } as unknown as Services;
const principal = { id: 'token:1', role: 'admin' as const };

describe('a request context', () => {
  it("should make a capability's loaders on first use, once for the request, from the services", () => {
    const made: unknown[] = [];
    const loaders = (s: Services) => {
      made.push(s.db);
      return { n: made.length };
    };
    const ctx = requestContext(services, principal);
    expect(made).toEqual([]);
    expect(ctx.loaders.get(loaders)).toBe(ctx.loaders.get(loaders));
    expect(made).toEqual([services.db]);
    expect(ctx).toMatchObject({ principal, db: services.db, log: services.log });
  });

  it('should give each request, and each event of a subscription, loaders of its own', () => {
    const loaders = () => ({ cache: new Map<number, string>() });
    const operation = requestContext(services, principal);
    operation.loaders.get(loaders).cache.set(1, 'read at the first event');
    const event = eventContext(operation);
    expect(event.principal).toBe(principal);
    expect(event.loaders.get(loaders).cache.size).toBe(0);
    expect(requestContext(services, principal).loaders.get(loaders).cache.size).toBe(0);
    expect(operation.loaders.get(loaders).cache.get(1)).toBe('read at the first event');
  });
});
