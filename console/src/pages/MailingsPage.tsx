import { useState } from 'react';
import type { MailingStatus } from '../gql/graphql';
import { navigate } from '../router';
import { useCanWrite } from '../session';
import { MailingsTable } from './MailingsTable';

const STATUSES: MailingStatus[] = ['SCHEDULED', 'RUNNING', 'PAUSED', 'COMPLETED', 'CANCELLED'];

export function MailingsPage() {
  const canWrite = useCanWrite();
  const [status, setStatus] = useState<MailingStatus | null>(null);
  return (
    <>
      <div className="page-head">
        <h1>Mailings</h1>
        <label className="inline">
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
        {canWrite && <button onClick={() => navigate('/mailings/new')}>New mailing</button>}
      </div>
      <MailingsTable status={status} pageSize={20} empty="No mailing yet." />
    </>
  );
}
