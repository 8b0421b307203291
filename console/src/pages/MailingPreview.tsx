import { useQuery, useSubscription } from '@apollo/client/react';
import { useEffect, useState } from 'react';
import { SegmentsLine } from '../components';
import { fieldErrorsOf } from '../errors';
import { count } from '../format';
import { useSettled, useThrottled } from '../hooks';
import { CLIENTS_CHANGED, MAILING_ESTIMATE, PREVIEW_CLIENT, PREVIEW_MAILING } from '../operations';

type Filter = { operatorCodes: string[]; tags: string[]; tagMatch: 'ANY' | 'ALL' };

/**
 * Inside the mailing form: the text as it would go to a real client of the filter (the first
 * one, then the next at each click; Herald renders it, `previewMailing`, with the
 * dispatcher's renderer), and what the mailing would cost from the audience's real names and
 * attributes (`mailingEstimate`): the whole audience's parts, the typical and the longest
 * message, and beside them the worst case Herald judges the text by (every placeholder at
 * its longest).
 */
export function MailingPreview({ text, filter }: { text: string; filter: Filter }) {
  const settledText = useSettled(text.trim(), 300);
  const settledFilter = useSettled(filter, 300);
  const filterKey = JSON.stringify(settledFilter);
  // The cursors of the clients shown so far: Next moves on, First goes back.
  const [after, setAfter] = useState<string | null>(null);
  useEffect(() => setAfter(null), [filterKey]);

  const estimate = useQuery(MAILING_ESTIMATE, { variables: { text: settledText, filter: settledFilter }, skip: settledText === '', fetchPolicy: 'cache-and-network' });
  const picked = useQuery(PREVIEW_CLIENT, { variables: { filter: settledFilter, after }, fetchPolicy: 'cache-and-network' });
  // The directory or its opt-outs changed: the estimate and the client shown are read again (at most once a second).
  const reread = useThrottled(() => {
    if (settledText !== '') void estimate.refetch();
    void picked.refetch();
  }, 1_000);
  useSubscription(CLIENTS_CHANGED, { onData: reread });
  const client = picked.data?.clients.edges[0]?.node;
  const rendered = useQuery(PREVIEW_MAILING, { variables: { text: settledText, clientId: client?.id ?? '' }, skip: !client || settledText === '' });
  if (settledText === '') return null;
  const e = (estimate.data ?? estimate.previousData)?.mailingEstimate;
  const preview = (rendered.data ?? rendered.previousData)?.previewMailing;
  const problem = rendered.error ? (fieldErrorsOf(rendered.error).text ?? rendered.error.message) : null;
  const pageInfo = picked.data?.clients.pageInfo;

  return (
    <section className="card mailing-preview" aria-label="preview">
      <h2>Preview</h2>
      {picked.data && !client && <p className="muted">No client matches the filter.</p>}
      {client && (
        <>
          <p className="preview-for" data-client={client.phone}>
            For {client.name ? `${client.name}, ` : ''}
            {client.phone}
            {client.optedOut && <span className="badge badge-opted-out">opted out: not in the audience</span>}
            <span className="preview-nav">
              <button type="button" className="secondary" disabled={after === null} onClick={() => setAfter(null)}>
                First
              </button>
              <button type="button" className="secondary" disabled={!pageInfo?.hasNextPage} onClick={() => setAfter(pageInfo?.endCursor ?? null)}>
                Next client
              </button>
            </span>
          </p>
          {problem ? (
            <p className="hint over">{problem}</p>
          ) : (
            preview && (
              <>
                <blockquote className="preview-text" data-preview-text>
                  {preview.text}
                </blockquote>
                <SegmentsLine segments={preview.segments} />
              </>
            )
          )}
        </>
      )}
      {e && (
        <p className="estimate-real" aria-live="polite" data-parts={e.parts} data-typical={e.typicalParts} data-longest={e.longestParts} data-worst={e.worstCaseParts}>
          ≈ {count(e.parts)} SMS parts for {count(e.audience)} {e.audience === 1 ? 'client' : 'clients'}: typically {e.typicalParts} a message, the longest {e.longestParts}
          {!e.exact && <span className="muted"> (counted by the values' lengths: over 10,000 distinct ones)</span>}
          <span className="worst-case">
            {' '}
            · worst case {count(e.audience * e.worstCaseParts)} ({e.worstCaseParts} a message, every placeholder at its longest)
          </span>
        </p>
      )}
    </section>
  );
}
