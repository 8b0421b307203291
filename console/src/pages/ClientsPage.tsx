import { useMutation, useQuery, useSubscription } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Pager, Table, TextField } from '../components';
import { FieldError, type FieldErrors, fieldErrorsOf, messageOf } from '../errors';
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

/** Creates a client, or edits one: only what changed is sent. */
function ClientForm({ client, onDone }: { client: ClientRowFragment | null; onDone: () => void }) {
  const [phone, setPhone] = useState(client?.phone ?? '');
  const [operatorCode, setOperatorCode] = useState(client?.operatorCode ?? '');
  const [tags, setTags] = useState(client?.tags.join(', ') ?? '');
  const [timezone, setTimezone] = useState(client?.timezone ?? timeZone);
  const [name, setName] = useState(client?.name ?? '');
  const [attributes, setAttributes] = useState(attributeLines(client?.attributes ?? {}));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [create, created] = useMutation(CREATE_CLIENT);
  const [update, updated] = useMutation(UPDATE_CLIENT);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setErrors({});
    const parsed = parseAttributes(attributes);
    if ('problem' in parsed) return setErrors({ attributes: parsed.problem as string });
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
      setErrors(fieldErrorsOf(e));
    }
  }

  return (
    <form className="card form" onSubmit={submit} noValidate aria-label={client ? 'edit client' : 'new client'}>
      <h2>{client ? `Edit client ${client.phone}` : 'New client'}</h2>
      <div className="row">
        <TextField label="Phone" value={phone} onChange={setPhone} placeholder="79161234567" errors={errors} field="phone" />
        <TextField label="Name" value={name} onChange={setName} placeholder="for {{name}} (optional)" errors={errors} field="name" />
        <TextField label="Operator code" value={operatorCode} onChange={setOperatorCode} placeholder="from the phone" errors={errors} field="operatorCode" />
      </div>
      <div className="row">
        <TextField label="Tags" value={tags} onChange={setTags} placeholder="vip, moscow" errors={errors} field="tags" />
        <TextField label="Time zone" value={timezone} onChange={setTimezone} errors={errors} field="timezone" />
      </div>
      <div className="row">
        <label className="grow">
          Attributes
          <textarea value={attributes} onChange={(e) => setAttributes(e.target.value)} rows={3} placeholder={'one key=value a line, for {{attributes.key}} in texts\ne.g. city=Moscow'} />
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
