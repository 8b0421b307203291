import { useState } from 'react';
import type { MailingStatus } from '../gql/graphql';
import { useSettled } from '../hooks';
import { navigate } from '../router';
import { useCanWrite } from '../session';
import { MailingsTable } from './MailingsTable';

const STATUSES: MailingStatus[] = ['SCHEDULED', 'RUNNING', 'PAUSED', 'COMPLETED', 'CANCELLED'];

/** "2025-05-01" (an <input type="date">, the operator's day) → the instant that day starts, plus `days`. */
function dayStart(value: string, days = 0): string | null {
  if (value === '') return null;
  const [y, m, d] = value.split('-').map(Number);
  const date = new Date(y, m - 1, d + days);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function MailingsPage() {
  const canWrite = useCanWrite();
  const [status, setStatus] = useState<MailingStatus | null>(null);
  const [name, setName] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const settledName = useSettled(name.trim(), 300);
  // Both days included: "to" is the start of the day after it.
  const filter = { status, name: settledName || null, startFrom: dayStart(from), startTo: dayStart(to, 1) };
  return (
    <>
      <div className="page-head">
        <h1>Mailings</h1>
        {canWrite && <button onClick={() => navigate('/mailings/new')}>New mailing</button>}
      </div>
      <section className="filters" aria-label="filter mailings">
        <label>
          Name
          <input value={name} placeholder="a part of it" onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Status
          <select value={status ?? ''} onChange={(e) => setStatus((e.target.value || null) as MailingStatus | null)}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        <label>
          Starting from
          <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          to
          <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
      </section>
      <MailingsTable sortable filter={filter} pageSize={20} empty={filter.status || filter.name || from || to ? 'No mailing matches.' : 'No mailing yet.'} />
    </>
  );
}
