import type { Principal } from '../auth/tokens';
import type { Services } from './services';

export type { Services } from './services';

/**
 * Makes one capability's loaders for one request (e.g. mailings/mailing.loaders.ts). The
 * capability exports the factory; `ctx.loaders.get(factory)` makes them on first use.
 */
export type LoaderFactory<T> = (services: Services) => T;

/**
 * The loaders of one request (or one subscription event), each capability's made on first
 * use and kept, keyed by its factory, until the request ends: batching and caching for that
 * request only. The contract knows no capability: each brings its own factory.
 */
export class RequestLoaders {
  private readonly made = new Map<LoaderFactory<unknown>, unknown>();

  constructor(private readonly services: Services) {}

  get<T>(factory: LoaderFactory<T>): T {
    if (!this.made.has(factory)) this.made.set(factory, factory(this.services));
    return this.made.get(factory) as T;
  }
}

/** What every resolver receives: the services, who asks, and the request's loaders. */
export type Context = Services & {
  principal: Principal;
  loaders: RequestLoaders;
};

/** The context of one request (or one subscription) by `principal`. */
export function requestContext(services: Services, principal: Principal): Context {
  return { ...services, principal, loaders: new RequestLoaders(services) };
}

/**
 * The context for one event of a subscription: the operation's, with loaders of its own.
 * Loaders cache for as long as they live, and a subscription lives for hours: each event
 * reads afresh, as each HTTP request does.
 */
export function eventContext(operation: Context): Context {
  return { ...operation, loaders: new RequestLoaders(operation) };
}
