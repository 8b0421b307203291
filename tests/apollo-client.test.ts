import { ApolloClient, gql, HttpLink, InMemoryCache, split, type TypedDocumentNode } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { isSubscriptionOperation } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { GatewaySimulator } from '../src/gateway/simulator';
import { createMailing, inMs, insertClients } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { ADMIN_TOKEN, startTestHerald, VIEWER_TOKEN, type TestHerald } from './support/herald';
import { waitFor } from './support/wait';

let herald: TestHerald;
let gateway: GatewaySimulator;
beforeAll(async () => {
  const gw = await startTestGateway({ latencyMs: 20 });
  gateway = gw.simulator;
  herald = await startTestHerald(gw.config);
});
afterAll(async () => {
  await herald?.stop();
  await gateway?.stop();
});

/** The client of the "Apollo Client" example in docs/api.md, counting its HTTP requests. */
function readmeClient(token: string) {
  const http = { requests: 0 };
  const httpLink = new HttpLink({
    uri: `${herald.url}/graphql`,
    headers: { authorization: `Bearer ${token}` },
    fetch: (input, init) => {
      http.requests++;
      return fetch(input, init);
    },
  });
  const wsClient = createClient({
    url: `${herald.url.replace(/^http/, 'ws')}/graphql`,
    connectionParams: { authorization: `Bearer ${token}` },
    webSocketImpl: WebSocket,
  });
  const client = new ApolloClient({
    link: split(({ query }) => isSubscriptionOperation(query), new GraphQLWsLink(wsClient), httpLink),
    cache: new InMemoryCache({
      typePolicies: {
        MessageStats: { merge: true },
        Statistics: { keyFields: [] },
      },
    }),
  });
  return { client, http, dispose: () => wsClient.dispose() };
}

type MailingView = { id: string; status: string; stats: { total: number; sent: number } };

const MAILING: TypedDocumentNode<{ mailing: MailingView & { text: string } }, { id: string }> = gql`
  query Mailing($id: ID!) { mailing(id: $id) { id text status stats { total sent } } }
`;
const MAILINGS: TypedDocumentNode<{ mailings: { edges: { node: MailingView }[] } }> = gql`
  query Mailings { mailings(first: 10) { edges { node { id status stats { total sent pending } } } } }
`;
const PROGRESS = gql`
  subscription Progress($id: ID!) { mailingProgress(mailingId: $id) { mailing { id status stats { total sent pending } } } }
`;

describe('Apollo Client against Herald', () => {
  it("should see a cached mailing complete, in every query that shows it, through mailingProgress events alone", async () => {
    const [tag] = [`apollo-${Date.now()}`];
    await insertClients(herald, 30, { tags: [tag] });
    const { id } = await createMailing(herald, { startAt: inMs(1_500), filter: { tags: [tag] } });
    const { client, http, dispose } = readmeClient(VIEWER_TOKEN);
    try {
      expect((await client.query({ query: MAILING, variables: { id } })).data?.mailing).toMatchObject({ status: 'SCHEDULED', stats: { total: 0, sent: 0 } });
      await client.query({ query: MAILINGS });
      const requestsBefore = http.requests;

      await new Promise<void>((resolve, reject) => {
        client.subscribe({ query: PROGRESS, variables: { id } }).subscribe({ complete: resolve, error: reject });
      });

      // Read from the cache only: nothing was refetched.
      expect(client.readQuery({ query: MAILING, variables: { id } })?.mailing).toEqual({
        __typename: 'Mailing',
        id,
        text: 'Hello',
        status: 'COMPLETED',
        stats: { __typename: 'MessageStats', total: 30, sent: 30 },
      });
      const listed = client.readQuery({ query: MAILINGS })?.mailings.edges.find((e) => e.node.id === id)?.node;
      expect(listed).toMatchObject({ status: 'COMPLETED', stats: { total: 30, sent: 30, pending: 0 } });
      expect(http.requests).toBe(requestsBefore);
    } finally {
      await dispose();
    }
  });

  it('should update the cached overall statistics through statisticsChanged alone', async () => {
    const STATISTICS: TypedDocumentNode<{ statistics: { mailingCount: number; messages: { sent: number } } }> = gql`
      query Statistics { statistics { mailingCount messages { sent } } }
    `;
    const { client, dispose } = readmeClient(ADMIN_TOKEN);
    try {
      const before = (await client.query({ query: STATISTICS })).data!.statistics;
      const seen = client.subscribe({ query: gql`subscription { statisticsChanged { mailingCount messages { sent } } }` }).subscribe({});
      const tag = `apollo-stats-${Date.now()}`;
      await insertClients(herald, 5, { tags: [tag] });
      await createMailing(herald, { filter: { tags: [tag] } });
      await waitFor(() => client.readQuery({ query: STATISTICS })?.statistics.messages.sent === before.messages.sent + 5, 10_000, 'five more sent in the cache');
      expect(client.readQuery({ query: STATISTICS })?.statistics.mailingCount).toBe(before.mailingCount + 1);
      seen.unsubscribe();
    } finally {
      await dispose();
    }
  });
});
