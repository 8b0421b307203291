import type { ProviderValue } from './provider.type';

/**
 * What an api process answers about the providers: every configured provider as the worker
 * processes report it through PostgreSQL (provider_states), the same from every api process.
 */
export interface ProviderDirectory {
  list(): Promise<ProviderValue[]>;
  /** the list at once, then on every change */
  changes(): AsyncIterableIterator<ProviderValue[]>;
}
