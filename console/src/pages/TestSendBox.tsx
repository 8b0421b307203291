import { useMutation } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { SegmentsLine, TextField } from '../components';
import { FieldError, fieldErrorsOf, type FieldErrors } from '../errors';
import type { TestSendMutation } from '../gql/graphql';
import { TEST_SEND } from '../operations';

type Result = TestSendMutation['testSend'];

/**
 * Sends the text being written to one phone now, through Herald's gateway path (an opted-out
 * phone is refused): personalised as for the client with that phone, recorded apart from
 * every mailing. The result shows the text as it went out and how it was billed.
 */
export function TestSendBox({ text }: { text: string }) {
  const [phone, setPhone] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [result, setResult] = useState<Result | null>(null);
  const [send, { loading }] = useMutation(TEST_SEND);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setErrors({});
    setResult(null);
    try {
      const { data } = await send({ variables: { text, phone: phone.trim() } });
      setResult(data!.testSend);
    } catch (e) {
      setErrors(fieldErrorsOf(e));
    }
  }

  return (
    <form className="card form test-send" onSubmit={submit} noValidate aria-label="test message">
      <h2>Test send</h2>
      <p className="hint">The text above, sent now to one phone, personalised as for the client with that phone (defaults otherwise). Not part of any mailing.</p>
      <div className="row">
        <TextField label="Test phone" value={phone} onChange={setPhone} placeholder="79161234567" errors={errors} field="phone" />
        <button type="submit" disabled={loading || text.trim() === '' || phone.trim() === ''}>
          {loading ? 'Sending…' : 'Send test'}
        </button>
      </div>
      <FieldError errors={errors} fields={['text', '']} />
      {result && (
        <div className={`test-result test-${result.status.toLowerCase()}`} role="status">
          <p>
            <strong>{result.status === 'SENT' ? 'Sent' : result.status === 'SKIPPED' ? 'Not sent: the phone opted out' : 'Failed'}</strong>
            <span className="muted">
              {' '}
              · {result.outcome} · message {result.id}
            </span>
            {result.error && result.status !== 'SKIPPED' && <span className="error-text"> · {result.error}</span>}
          </p>
          <p className="rendered-text">{result.text}</p>
          <SegmentsLine segments={result.segments} />
        </div>
      )}
    </form>
  );
}
