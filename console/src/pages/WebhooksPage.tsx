import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Table, TextField } from '../components';
import { FieldError, type FieldErrors, fieldErrorsOf, useFirstErrorFocus, withoutErrors } from '../errors';
import { count, when } from '../format';
import type { WebhookEvent, WebhookRowFragment } from '../gql/graphql';
import { CREATE_WEBHOOK, WEBHOOKS } from '../operations';
import { Link } from '../router';
import { useCanWrite } from '../session';

/** The events a webhook can ask for, with what each sends. */
export const WEBHOOK_EVENTS: { event: WebhookEvent; label: string }[] = [
  { event: 'MESSAGE_STATUS', label: 'a message’s status changes (sent, delivered, failed…)' },
  { event: 'MAILING_STATUS', label: 'a mailing starts, pauses, completes…' },
  { event: 'INBOUND', label: 'a reply arrives' },
  { event: 'OPT_OUT', label: 'a phone opts out or back in' },
];

/** MESSAGE_STATUS as the "message status" an operator reads. */
export const eventName = (event: string) => event.toLowerCase().replace(/_/g, ' ');

export function WebhookState({ webhook }: { webhook: Pick<WebhookRowFragment, 'enabled' | 'disabledReason'> }) {
  return (
    <>
      <span className={`badge ${webhook.enabled ? 'badge-enabled' : 'badge-disabled'}`}>{webhook.enabled ? 'enabled' : 'disabled'}</span>
      {!webhook.enabled && webhook.disabledReason && <div className="disabled-reason">{webhook.disabledReason}</div>}
    </>
  );
}

/** Webhooks are an admin's: a viewer's token may not read them (their URLs can carry credentials). */
export function WebhooksPage() {
  const canWrite = useCanWrite();
  return (
    <>
      <div className="page-head">
        <h1>Webhooks</h1>
      </div>
      <p className="hint">
        Herald POSTs each event a webhook asks for to its URL, signed with the webhook’s secret (Standard Webhooks: <code>webhook-id</code>, <code>webhook-timestamp</code>,{' '}
        <code>webhook-signature</code>), and tries again until the receiver answers 2xx.
      </p>
      {canWrite ? (
        <WebhookList />
      ) : (
        <p className="notice" role="note">
          Webhooks are managed by an admin: signed in as a viewer you can neither see nor change them.
        </p>
      )}
    </>
  );
}

function WebhookList() {
  const { data, error } = useQuery(WEBHOOKS, { fetchPolicy: 'cache-and-network' });
  const [created, setCreated] = useState<{ secret: string; url: string; id: string } | null>(null);
  const webhooks = data?.webhooks;
  return (
    <>
      {created ? <SecretPanel {...created} onClose={() => setCreated(null)} /> : <WebhookForm onCreated={setCreated} />}
      {error && (
        <p className="field-error" role="alert">
          {Object.values(fieldErrorsOf(error)).join('; ')}
        </p>
      )}
      {webhooks &&
        (webhooks.length === 0 ? (
          <p className="muted">No webhook yet.</p>
        ) : (
          <Table className="webhooks" headers={['URL', 'Events', 'State', 'Pending', 'Failed', 'Created']}>
            {webhooks.map((w) => (
              <tr key={w.id} data-webhook={w.url}>
                <td className="url-cell">
                  <Link to={`/webhooks/${w.id}`}>{w.url}</Link>
                  {w.description && <div className="muted small">{w.description}</div>}
                </td>
                <td>
                  {w.events.map((e) => (
                    <span key={e} className="tag">
                      {eventName(e)}
                    </span>
                  ))}
                </td>
                <td>
                  <WebhookState webhook={w} />
                </td>
                <td className="number" data-pending={w.pendingDeliveries}>
                  {count(w.pendingDeliveries)}
                </td>
                <td className={`number ${w.failedDeliveries > 0 ? 'failed-count' : ''}`} data-failed={w.failedDeliveries}>
                  {count(w.failedDeliveries)}
                </td>
                <td className="nowrap">{when(w.createdAt)}</td>
              </tr>
            ))}
          </Table>
        ))}
    </>
  );
}

/** The secret is in createWebhook's answer and nowhere else, ever: this panel is the one chance to copy it. */
function SecretPanel({ secret, url, id, onClose }: { secret: string; url: string; id: string; onClose: () => void }) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const copy = () =>
    navigator.clipboard
      .writeText(secret)
      .then(() => setCopied('yes'))
      .catch(() => setCopied('no'));
  return (
    <section className="card secret-panel" aria-label="webhook secret">
      <h2>Webhook created</h2>
      <p>
        The signing secret of <Link to={`/webhooks/${id}`}>{url}</Link>, <strong>shown only now</strong>: Herald keeps it to sign and will not show it again. Copy it into the receiver’s configuration.
      </p>
      <div className="row">
        <code className="secret" data-secret>
          {secret}
        </code>
        <button type="button" onClick={copy}>
          Copy
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          Done
        </button>
      </div>
      {copied && (
        <p className={copied === 'yes' ? 'muted' : 'field-error'} role="status">
          {copied === 'yes' ? 'Copied to the clipboard.' : 'The browser refused the clipboard: select the secret and copy it.'}
        </p>
      )}
    </section>
  );
}

function WebhookForm({ onCreated }: { onCreated: (created: { secret: string; url: string; id: string }) => void }) {
  const [url, setUrlValue] = useState('');
  const [events, setEventsValue] = useState<WebhookEvent[]>([]);
  const [description, setDescriptionValue] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  // Every field's error at once (extensions.fields); an edited field's clears; the first is focused.
  const { ref: formRef, focusFirst } = useFirstErrorFocus();
  const setUrl = (v: string) => (setUrlValue(v), setErrors((e) => withoutErrors(e, ['url', 'input.url'])));
  const setEvents = (f: (list: WebhookEvent[]) => WebhookEvent[]) => (setEventsValue(f), setErrors((e) => withoutErrors(e, ['events', 'input.events'])));
  const setDescription = (v: string) => (setDescriptionValue(v), setErrors((e) => withoutErrors(e, ['description', 'input.description'])));
  const [create, { loading }] = useMutation(CREATE_WEBHOOK, { refetchQueries: [WEBHOOKS] });
  const toggle = (event: WebhookEvent, on: boolean) => setEvents((list) => (on ? [...list, event] : list.filter((e) => e !== event)));

  async function submit(e: FormEvent) {
    e.preventDefault();
    setErrors({});
    try {
      const { data } = await create({ variables: { input: { url: url.trim(), events: WEBHOOK_EVENTS.map((w) => w.event).filter((ev) => events.includes(ev)), description: description.trim() || null } } });
      if (!data) return;
      onCreated({ secret: data.createWebhook.secret, url: data.createWebhook.webhook.url, id: data.createWebhook.webhook.id });
    } catch (err) {
      setErrors(fieldErrorsOf(err));
      focusFirst();
    }
  }

  return (
    <form ref={formRef} className="card form" onSubmit={submit} noValidate aria-label="new webhook">
      <h2>New webhook</h2>
      <div className="row">
        <label className="grow">
          URL
          <input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/herald" inputMode="url" aria-invalid={errors.url !== undefined || undefined} />
          <FieldError errors={errors} fields={['url', 'input.url']} />
        </label>
      </div>
      <fieldset>
        <legend>Events</legend>
        {WEBHOOK_EVENTS.map(({ event, label }) => (
          <label key={event} className="inline">
            <input type="checkbox" checked={events.includes(event)} onChange={(e) => toggle(event, e.target.checked)} />
            <span>
              <strong>{eventName(event)}</strong> <span className="muted">— {label}</span>
            </span>
          </label>
        ))}
        <FieldError errors={errors} fields={['events', 'input.events']} />
      </fieldset>
      <div className="row">
        <div className="grow">
          <TextField label="Description" value={description} onChange={setDescription} placeholder="e.g. CRM sync (optional)" errors={errors} field="description" />
        </div>
      </div>
      <FieldError errors={errors} fields={['', 'input', 'input.description']} />
      <div className="row">
        <button type="submit" disabled={loading}>
          Create webhook
        </button>
      </div>
    </form>
  );
}
