import { useQuery, useSubscription } from '@apollo/client/react';
import { count } from '../format';
import type { ProviderFiguresFragment, ProviderState } from '../gql/graphql';
import { PROVIDERS, PROVIDERS_CHANGED } from '../operations';

/**
 * The providers as the worker processes see them: the query paints first, then each
 * providersChanged (the whole list, at once on subscribing and on every change) is written
 * where the query reads, as statisticsChanged is. While the socket is away the last list
 * stays; graphql-ws subscribes again on reconnecting and Herald answers with the list as it is.
 */
export function ProvidersPanel() {
  const { data } = useQuery(PROVIDERS);
  useSubscription(PROVIDERS_CHANGED, {
    onData: ({ client, data: event }) => {
      const providers = event.data?.providersChanged;
      if (providers) client.writeQuery({ query: PROVIDERS, data: { providers } });
    },
  });
  if (!data) return null;
  if (data.providers.length === 0) return <p className="muted providers-empty">No providers reported yet.</p>;
  return (
    <section className="providers" aria-label="providers">
      {data.providers.map((p) => (
        <ProviderCard key={p.name} provider={p} />
      ))}
    </section>
  );
}

// The word carries the state; the colour and the mark before it (styles.css) only repeat it.
export function ProviderStateBadge({ state }: { state: ProviderState }) {
  return <span className={`badge provider-state provider-${state.toLowerCase()}`}>{state}</span>;
}

const rate = (perSecond: number) => (perSecond < 10 ? perSecond.toFixed(1) : count(Math.round(perSecond)));

function ProviderCard({ provider: p }: { provider: ProviderFiguresFragment }) {
  return (
    <article className={`provider-card provider-card-${p.state.toLowerCase()}`} data-provider={p.name} aria-label={`provider ${p.name}`}>
      <header>
        <strong className="provider-name">{p.name}</strong>
        <span className="provider-type">{p.type}</span>
        <ProviderStateBadge state={p.state} />
      </header>
      {p.state !== 'UP' && <p className="provider-reason">{p.reason ?? 'no reason given'}</p>}
      <dl>
        <dt>sent</dt>
        <dd data-figure="sent per second">{rate(p.sentPerSecond)} msg/s</dd>
        <dt>limit</dt>
        <dd data-figure="limit">{p.partsPerSecond > 0 ? `${rate(p.partsPerSecond)} parts/s` : 'no limit'}</dd>
        <dt>in flight</dt>
        <dd data-figure="in flight">{count(p.inFlight)}</dd>
        {p.type === 'SMPP' && (
          <>
            <dt>binds up</dt>
            <dd data-figure="binds up">{p.bindsUp === null ? '—' : count(p.bindsUp)}</dd>
          </>
        )}
      </dl>
    </article>
  );
}
