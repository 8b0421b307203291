import { useMutation, useQuery, useSubscription } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Pager, Table, TextField } from '../components';
import { FieldError, type FieldErrors, fieldErrorsOf, inLabelWords, messageOf, useFirstErrorFocus, withoutErrors } from '../errors';
import { normalizePhone } from '../phone';
import { count, listOf, timeZone } from '../format';
import type { ClientRowFragment, TagMatch } from '../gql/graphql';
import { usePages, useSettled, useThrottled } from '../hooks';
import { CLIENTS, CLIENTS_CHANGED, CREATE_CLIENT, DELETE_CLIENT, UPDATE_CLIENT } from '../operations';
import { useCanWrite } from '../session';
import { ImportPanel } from './ImportPanel';
import { Link } from '../router';

const PAGE_SIZE = 25;

/** { city: "Moscow" } as the form's "city=Moscow" lines. */
const attributeLines = (attributes: Record<string, string>) =>
  Object.entries(attributes)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');

/** "key=value" lines (blank ones skipped) as an object, or the first problem with them. */
function parseAttributes(text: string): Record<string, string> | { problem: string } {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const eq = lines[i].indexOf('=');
    if (eq === -1) return { problem: `line ${i + 1}: expected key=value` };
    const key = lines[i].slice(0, eq).trim();
    if (Object.hasOwn(out, key)) return { problem: `line ${i + 1}: ${key} is given twice` };
    out[key] = lines[i].slice(eq + 1).trim();
  }
  return out;
}

export function ClientsPage() {
  const canWrite = useCanWrite();
  // /clients?phone=… (a reply's client link) opens the list found by that phone.
  const [phone, setPhone] = useState(() => new URLSearchParams(location.search).get('phone') ?? '');
  const [codes, setCodes] = useState('');
  const [tags, setTags] = useState('');
  const [tagMatch, setTagMatch] = useState<TagMatch>('ANY');
  const [editing, setEditing] = useState<ClientRowFragment | 'new' | null>(null);
  const search = useSettled({ phone, filter: { operatorCodes: listOf(codes), tags: listOf(tags), tagMatch } }, 300);
  const pages = usePages(JSON.stringify(search));
  const { data, error, refetch } = useQuery(CLIENTS, { variables: { first: PAGE_SIZE, after: pages.after, ...search } });
  // Another operator's (or this one's) change to the directory: this page is read again.
  const reread = useThrottled(() => void refetch(), 1_000);
  useSubscription(CLIENTS_CHANGED, { onData: reread });
  const errors = error ? fieldErrorsOf(error) : {};
  const connection = data?.clients;

  return (
    <>
      <div className="page-head">
        <h1>Clients</h1>
        {connection && <span className="muted">{count(connection.totalCount)} found</span>}
        {canWrite && <button onClick={() => setEditing('new')}>New client</button>}
      </div>
      <section className="filters" aria-label="search">
        <TextField label="Phone" value={phone} onChange={setPhone} placeholder="digits it contains" errors={errors} field="phone" />
        <TextField label="Operator codes" value={codes} onChange={setCodes} placeholder="e.g. 916, 903" errors={errors} field="filter.operatorCodes" />
        <TextField label="Tags" value={tags} onChange={setTags} placeholder="e.g. vip" errors={errors} field="filter.tags" />
        <label>
          Match
          <select value={tagMatch} onChange={(e) => setTagMatch(e.target.value as TagMatch)}>
            <option value="ANY">any tag</option>
            <option value="ALL">all tags</option>
          </select>
        </label>
      </section>

      {editing && <ClientForm client={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />}

      {connection && (
        <>
          <Table className="clients" headers={['Phone', 'Name', 'Operator', 'Tags', 'Attributes', 'Time zone', ...(canWrite ? [''] : [])]}>
            {connection.edges.map(({ node }) => (
              <tr key={node.id} data-client={node.phone}>
                <td><Link to={`/clients/${node.id}`}>{node.phone}</Link></td>
                <td>{node.name ?? ''}</td>
                <td>{node.operatorCode}</td>
                <td>{node.tags.map((t) => <span key={t} className="tag">{t}</span>)}</td>
                <td className="attributes">
                  {Object.entries(node.attributes).map(([k, v]) => (
                    <span key={k} className="attribute">
                      {k}={v}
                    </span>
                  ))}
                </td>
                <td>{node.timezone}</td>
                {canWrite && (
                  <td className="row-actions">
                    <button className="secondary" onClick={() => setEditing(node)}>
                      Edit
                    </button>
                    <DeleteClient id={node.id} phone={node.phone} />
                  </td>
                )}
              </tr>
            ))}
          </Table>
          <Pager pages={pages} pageInfo={connection.pageInfo}>
            page {pages.page}
          </Pager>
        </>
      )}

      {canWrite && <ImportPanel />}
    </>
  );
}

function DeleteClient({ id, phone }: { id: string; phone: string }) {
  const [remove, { loading }] = useMutation(DELETE_CLIENT, { variables: { id }, update: (cache) => void cache.evict({ id: cache.identify({ __typename: 'Client', id }) }) });
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <button
        className="danger"
        disabled={loading}
        onClick={() => confirm(`Delete the client ${phone}?`) && remove().catch((e) => setError(messageOf(e)))}
      >
        Delete
      </button>
      {error && <span className="field-error">{error}</span>}
    </>
  );
}

/** The client form's labels by the API's field names. */
const CLIENT_LABELS: Record<string, string> = { phone: 'Phone', name: 'Name', operatorCode: 'Operator code', tags: 'Tags', timezone: 'Time zone', attributes: 'Attributes' };

// Every IANA name this browser knows, for the time zone's picker (typed to search it).
const TIME_ZONES: string[] = (() => {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return [];
  }
})();

/** Creates a client, or edits one: only what changed is sent. */
function ClientForm({ client, onDone }: { client: ClientRowFragment | null; onDone: () => void }) {
  const [errors, setErrors] = useState<FieldErrors>({});
  // Each field's setter clears that field's errors: an edited field is judged again at the next submit.
  const useField = (api: string, initial: string) => {
    const [value, setValue] = useState(initial);
    return [value, (v: string) => (setValue(v), setErrors((e) => withoutErrors(e, [api])))] as const;
  };
  const [phone, setPhone] = useField('phone', client?.phone ?? '');
  const [operatorCode, setOperatorCode] = useField('operatorCode', client?.operatorCode ?? '');
  const [tags, setTags] = useField('tags', client?.tags.join(', ') ?? '');
  const [timezone, setTimezone] = useField('timezone', client?.timezone ?? timeZone);
  const [name, setName] = useField('name', client?.name ?? '');
  const [attributes, setAttributes] = useField('attributes', attributeLines(client?.attributes ?? {}));
  const { ref: formRef, focusFirst } = useFirstErrorFocus();
  const showErrors = (found: FieldErrors) => {
    setErrors(inLabelWords(found, CLIENT_LABELS));
    focusFirst();
  };
  // A phone as people write it (+7 916 555-44-33, 8 (916) …) is sent as 7XXXXXXXXXX, and the form says so.
  const phoneToSend = normalizePhone(phone);
  const rewritten = phoneToSend !== phone.trim() && phoneToSend !== (client?.phone ?? null);
  const [create, created] = useMutation(CREATE_CLIENT);
  const [update, updated] = useMutation(UPDATE_CLIENT);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setErrors({});
    const parsed = parseAttributes(attributes);
    if ('problem' in parsed) return showErrors({ attributes: parsed.problem as string });
    const phone = phoneToSend;
    try {
      if (!client) {
        const input = { phone, name: name.trim() || null, operatorCode: operatorCode.trim() || null, tags: listOf(tags), timezone, attributes: parsed };
        await create({ variables: { input } });
      } else {
        const input: Record<string, unknown> = {};
        if (phone !== client.phone) input.phone = phone;
        if (name !== (client.name ?? '')) input.name = name.trim() || null;
        if (attributes !== attributeLines(client.attributes)) input.attributes = parsed;
        if (operatorCode !== client.operatorCode) input.operatorCode = operatorCode;
        if (tags !== client.tags.join(', ')) input.tags = listOf(tags);
        if (timezone !== client.timezone) input.timezone = timezone;
        await update({ variables: { id: client.id, input } });
      }
      onDone();
    } catch (e) {
      showErrors(fieldErrorsOf(e));
    }
  }

  return (
    <form ref={formRef} className="card form" onSubmit={submit} noValidate aria-label={client ? 'edit client' : 'new client'}>
      <h2>{client ? `Edit client ${client.phone}` : 'New client'}</h2>
      <div className="row">
        <TextField
          label="Phone"
          value={phone}
          onChange={setPhone}
          placeholder="79161234567 or +7 916 123-45-67"
          inputMode="tel"
          errors={errors}
          field="phone"
          hint={rewritten && <span className="hint phone-normalized" aria-live="polite">written as {phoneToSend}</span>}
        />
        <TextField label="Name" value={name} onChange={setName} placeholder="for {{name}} (optional)" errors={errors} field="name" />
        <TextField label="Operator code" value={operatorCode} onChange={setOperatorCode} placeholder="from the phone" errors={errors} field="operatorCode" />
      </div>
      <div className="row">
        <TextField label="Tags" value={tags} onChange={setTags} placeholder="vip, moscow" errors={errors} field="tags" />
        <TextField label="Time zone" value={timezone} onChange={setTimezone} errors={errors} field="timezone" list="time-zones" placeholder="type to search, e.g. Moscow" />
        <datalist id="time-zones">
          {TIME_ZONES.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
      </div>
      <div className="row">
        <label className="grow">
          Attributes
          <textarea value={attributes} onChange={(e) => setAttributes(e.target.value)} rows={3} aria-invalid={Object.keys(errors).some((f) => f === 'attributes' || f.startsWith('attributes.')) || undefined} placeholder={'one key=value a line, for {{attributes.key}} in texts\ne.g. city=Moscow'} />
          <FieldError errors={errors} fields={Object.keys(errors).filter((f) => f === 'attributes' || f.startsWith('attributes.'))} />
        </label>
      </div>
      <FieldError errors={errors} fields={['', 'id']} />
      <div className="row">
        <button type="submit" disabled={created.loading || updated.loading}>
          {client ? 'Save' : 'Create client'}
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Close
        </button>
      </div>
    </form>
  );
}
