import { ApolloClient, HttpLink, InMemoryCache, split, type WatchQueryFetchPolicy } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { isSubscriptionOperation } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';

/**
 * What a cache needs to follow Herald's events by itself (docs/api.md, "Apollo Client"): stats
 * have no id and live inside their mailing, so a subscription that selects some of them
 * merges into what a query selected instead of replacing it; the overall statistics are one
 * object, so statisticsChanged lands where `statistics` queries read.
 */
export const typePolicies = {
  MessageStats: { merge: true },
  Statistics: { keyFields: [] },
};

/**
 * Every query shows the cache at once and reads the server again each time a view mounts
 * (issue 20: a list that was not on screen when a mailing, client or opt-out was created,
 * changed or deleted heard none of those events, and a cache-first read showed it as it was).
 * While the view stays, the cache answers (its subscriptions keep it current, and a list
 * reads again on the events that change which rows it holds); new variables (a page, a
 * filter) read the server again too.
 */
export const LIVE_READS = {
  fetchPolicy: 'cache-and-network' as WatchQueryFetchPolicy,
  nextFetchPolicy: (current: WatchQueryFetchPolicy, { reason, initialFetchPolicy }: { reason: 'after-fetch' | 'variables-changed'; initialFetchPolicy: WatchQueryFetchPolicy }): WatchQueryFetchPolicy =>
    reason === 'variables-changed' ? initialFetchPolicy : current === 'cache-and-network' ? 'cache-first' : current,
};

// Closed by Herald for a token it does not (or no longer) accept.
const UNAUTHORIZED = 4401;

/**
 * Queries and mutations over HTTP, subscriptions over graphql-ws, both on this origin's
 * /graphql and both with the token. The socket reconnects for as long as the console is
 * open; Herald answers every resubscribed mailingProgress with a fresh snapshot.
 */
export function createApollo(token: string, onRefused: () => void) {
  const authorization = `Bearer ${token}`;
  const wsClient = createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    connectionParams: { authorization },
    retryAttempts: Infinity,
    shouldRetry: (event) => (event as CloseEvent)?.code !== UNAUTHORIZED,
    on: { closed: (event) => (event as CloseEvent)?.code === UNAUTHORIZED && onRefused() },
  });
  const client = new ApolloClient({
    link: split(({ query }) => isSubscriptionOperation(query), new GraphQLWsLink(wsClient), new HttpLink({ uri: '/graphql', headers: { authorization } })),
    cache: new InMemoryCache({ typePolicies }),
    defaultOptions: { watchQuery: LIVE_READS },
  });
  // Events sent while the socket was down are lost: once it is back, every query on screen
  // reads again (the first connection needs none, the queries have just been read).
  let connections = 0;
  wsClient.on('connected', () => {
    if (connections++ > 0) void client.refetchQueries({ include: 'active' });
  });
  return {
    client,
    dispose: () => {
      client.stop();
      void wsClient.dispose();
    },
  };
}
