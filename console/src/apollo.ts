import { ApolloClient, HttpLink, InMemoryCache, split } from '@apollo/client';
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
  });
  return {
    client,
    dispose: () => {
      client.stop();
      void wsClient.dispose();
    },
  };
}
