import { useMutation, useQuery, useSubscription } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { ReadOnlyNotice, SegmentsLine, TextField } from '../components';
import { FieldError, fieldErrorsOf, hasError, inLabelWords, useFirstErrorFocus, withoutErrors, type FieldErrors } from '../errors';
import { count, fromLocalInput, listOf, timeZone, toLocalInput } from '../format';
import type { MailingQuery, TagMatch } from '../gql/graphql';
import { useSettled, useThrottled } from '../hooks';
import type { MeasureTextQuery } from '../gql/graphql';
import { AUDIENCE_PREVIEW, CLIENTS_CHANGED, CREATE_MAILING, MAILING, MEASURE_TEXT, UPDATE_MAILING } from '../operations';
import { navigate } from '../router';
import { useCanWrite } from '../session';
import { TestSendBox } from './TestSendBox';
import { MailingPreview } from './MailingPreview';
import { TagPicker } from './TagPicker';

const MAX_TEXT = 1000;

type Form = {
  name: string;
  text: string;
  startAt: string;
  endAt: string;
  operatorCodes: string;
  tags: string;
  tagMatch: TagMatch;
  windowed: boolean;
  from: string;
  to: string;
  frequencyCap: string;
  maxFailureRate: string;
};

/** The form's labels by the API's field names: its messages shown in the words on screen. */
const LABELS: Record<string, string> = {
  name: 'Name',
  text: 'Text',
  startAt: 'Start',
  endAt: 'End',
  'filter.operatorCodes': 'Operator codes',
  'filter.tags': 'Tags',
  frequencyCap: 'Frequency cap',
  maxFailureRate: 'Max failure rate',
  'sendWindow.from': 'From',
  'sendWindow.to': 'To',
  sendWindow: 'Send window',
};

/** The API fields a form value is sent as: editing it clears their errors. */
const FIELDS_OF: Partial<Record<keyof Form, string[]>> = {
  operatorCodes: ['filter.operatorCodes', 'filter'],
  tags: ['filter.tags', 'filter'],
  tagMatch: ['filter'],
  windowed: ['sendWindow'],
  from: ['sendWindow.from', 'sendWindow'],
  to: ['sendWindow.to', 'sendWindow'],
};

const EMPTY: Form = { name: '', frequencyCap: '', maxFailureRate: '', text: '', startAt: '', endAt: '', operatorCodes: '', tags: '', tagMatch: 'ANY', windowed: false, from: '09:00', to: '21:00' };

function formOf(m: NonNullable<MailingQuery['mailing']>): Form {
  return {
    name: m.name ?? '',
    frequencyCap: m.frequencyCap ?? '',
    maxFailureRate: String(m.maxFailureRate),
    text: m.text,
    startAt: toLocalInput(new Date(m.startAt)),
    endAt: toLocalInput(new Date(m.endAt)),
    operatorCodes: m.filter.operatorCodes.join(', '),
    tags: m.filter.tags.join(', '),
    tagMatch: m.filter.tagMatch,
    windowed: m.sendWindow !== null && m.sendWindow !== undefined,
    from: m.sendWindow?.from ?? EMPTY.from,
    to: m.sendWindow?.to ?? EMPTY.to,
  };
}

/** Creates a mailing, or edits one (`id`): only what changed is sent. */
export function MailingForm({ id }: { id?: string }) {
  const canWrite = useCanWrite();
  const existing = useQuery(MAILING, { variables: { id: id ?? '' }, skip: !id || !canWrite });
  // A viewer may not create or change a mailing: the route says so rather than show a form it would refuse.
  if (!canWrite) {
    return (
      <ReadOnlyNotice>
        {id ? `Mailing ${id} is changed by an admin` : 'Mailings are created by an admin'}: signed in as a viewer you can see mailings but not create or change them.
      </ReadOnlyNotice>
    );
  }
  const mailing = existing.data?.mailing;
  if (id && !mailing) return existing.loading ? null : <p>There is no mailing {id}.</p>;
  return <MailingEditor mailing={mailing ?? undefined} />;
}

/**
 * The form itself, shown once the mailing to edit (if any) is there: it starts from it, so
 * that the audience count's first request is for the mailing's own filter, not the empty
 * form's (the whole directory). Later events update `mailing` (its status), never what is typed.
 */
function MailingEditor({ mailing }: { mailing: NonNullable<MailingQuery['mailing']> | undefined }) {
  const [form, setForm] = useState<Form>(() => (mailing ? formOf(mailing) : EMPTY));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [create, created] = useMutation(CREATE_MAILING);
  const [update, updated] = useMutation(UPDATE_MAILING);

  // Herald lets a mailing under way change its text, end and window only (it says which is).
  const underWay = mailing?.underWay ?? false;
  const { ref: formRef, focusFirst } = useFirstErrorFocus();
  const set = <K extends keyof Form>(key: K, value: Form[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setErrors((e) => withoutErrors(e, FIELDS_OF[key] ?? [key]));
  };
  const showErrors = (found: FieldErrors) => {
    setErrors(inLabelWords(found, LABELS));
    if (Object.keys(found).length > 0) focusFirst();
  };
  const filter = { operatorCodes: listOf(form.operatorCodes), tags: listOf(form.tags), tagMatch: form.tagMatch };

  // The live count of the audience a start now would have (opted-out phones left out): as
  // the filter is typed, and as the directory or its opt-outs change. A mailing under way has
  // the audience fixed at its start.
  const settledFilter = useSettled(filter, 300);
  const matching = useQuery(AUDIENCE_PREVIEW, { variables: { filter: settledFilter }, skip: underWay });
  const recount = useThrottled(() => void matching.refetch(), 1_000);
  useSubscription(CLIENTS_CHANGED, { onData: recount, skip: underWay });
  const audience = underWay ? mailing?.stats.total : matching.data?.audiencePreview;
  const shown = { ...(matching.error ? inLabelWords(fieldErrorsOf(matching.error), LABELS) : {}), ...errors };

  // How the text will be billed, asked of Herald as it is typed (placeholders at their longest);
  // the last answer stays on screen while the next is on its way.
  const settledText = useSettled(form.text.trim(), 150);
  const measuring = useQuery(MEASURE_TEXT, { variables: { text: settledText }, skip: settledText === '' });
  const measure = settledText === '' ? undefined : (measuring.data ?? measuring.previousData)?.measureText;
  const textProblem = measuring.error && settledText !== '' ? (fieldErrorsOf(measuring.error).text ?? measuring.error.message) : null;
  const segments = textProblem ? null : (measure?.segments ?? null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const startAt = fromLocalInput(form.startAt);
    const endAt = fromLocalInput(form.endAt);
    // What can be told here is told with the rest at once (the dates cannot be sent empty);
    // the API judges the rest, all its fields at once too.
    const missing: FieldErrors = {};
    if (form.text.trim() === '') missing.text = 'must not be empty';
    if (!startAt) missing.startAt = 'a date and time is needed';
    if (!endAt) missing.endAt = 'a date and time is needed';
    else if (startAt && endAt <= startAt) missing.endAt = 'must be after startAt';
    const rate = form.maxFailureRate.trim() === '' ? null : Number(form.maxFailureRate.trim().replace(',', '.'));
    if (rate !== null && Number.isNaN(rate)) missing.maxFailureRate = 'must be a number such as 0.5';
    showErrors(missing);
    if (Object.keys(missing).length > 0 || !startAt || !endAt) return;
    const sendWindow = form.windowed ? { from: form.from, to: form.to } : null;
    const name = form.name.trim() || null;
    const frequencyCap = form.frequencyCap.trim() || null;
    try {
      if (!mailing) {
        const input = { name, text: form.text, startAt, endAt, filter, sendWindow, frequencyCap, maxFailureRate: rate };
        const result = await create({ variables: { input } });
        navigate(`/mailings/${result.data!.createMailing.id}`);
        return;
      }
      const before = formOf(mailing);
      const input: Record<string, unknown> = {};
      if (form.name !== before.name) input.name = name;
      if (form.text !== before.text) input.text = form.text;
      if (form.frequencyCap !== before.frequencyCap) input.frequencyCap = frequencyCap;
      if (form.maxFailureRate !== before.maxFailureRate) input.maxFailureRate = rate;
      if (form.startAt !== before.startAt) input.startAt = startAt;
      if (form.endAt !== before.endAt) input.endAt = endAt;
      if (form.operatorCodes !== before.operatorCodes || form.tags !== before.tags || form.tagMatch !== before.tagMatch) input.filter = filter;
      if (form.windowed !== before.windowed || form.from !== before.from || form.to !== before.to) input.sendWindow = sendWindow;
      await update({ variables: { id: mailing.id, input } });
      navigate(`/mailings/${mailing.id}`);
    } catch (e) {
      showErrors(fieldErrorsOf(e));
    }
  }

  return (
    <>
    <form ref={formRef} className="card form" onSubmit={submit} noValidate aria-label={mailing ? 'edit mailing' : 'new mailing'}>
      <h1>{mailing ? `Edit mailing ${mailing.id}` : 'New mailing'}</h1>
      <TextField label="Name" value={form.name} onChange={(v) => set('name', v)} placeholder="for operators, e.g. Spring sale (optional)" errors={shown} field="name" />
      <label>
        Text
        <textarea value={form.text} onChange={(e) => set('text', e.target.value)} rows={4} aria-invalid={hasError(shown, 'text') || undefined} />
        <FieldError errors={shown} fields={['text']} />
      </label>
      <p className="hint">
        {'{{name}}'} and {'{{attributes.key}}'} are replaced for each client; {'{{name|friend}}'} when a client has none.
      </p>
      <p className={`hint ${form.text.trim().length > MAX_TEXT ? 'over' : ''}`} aria-live="polite">
        {form.text.trim().length}/{MAX_TEXT} characters
      </p>
      <TextSegments problem={textProblem} measure={textProblem ? undefined : measure} />

      <p className="hint">Times are in your time zone, {timeZone}.</p>
      <div className="row">
        <label>
          Start
          <input type="datetime-local" step={1} value={form.startAt} disabled={underWay} onChange={(e) => set('startAt', e.target.value)} aria-invalid={hasError(shown, 'startAt') || undefined} />
          <FieldError errors={shown} fields={['startAt']} />
        </label>
        <button type="button" className="secondary" disabled={underWay} onClick={() => set('startAt', toLocalInput(new Date()))}>
          Now
        </button>
        <label>
          End
          <input type="datetime-local" step={1} value={form.endAt} onChange={(e) => set('endAt', e.target.value)} aria-invalid={hasError(shown, 'endAt') || undefined} />
          <FieldError errors={shown} fields={['endAt']} />
        </label>
      </div>

      <fieldset disabled={underWay}>
        <legend>For the clients</legend>
        <TextField label="Operator codes" value={form.operatorCodes} onChange={(v) => set('operatorCodes', v)} placeholder="e.g. 916, 903 (empty: any)" errors={shown} field="filter.operatorCodes" />
        <TextField label="Tags" value={form.tags} onChange={(v) => set('tags', v)} placeholder="e.g. vip, moscow (empty: any)" errors={shown} field="filter.tags" />
        <TagPicker selected={listOf(form.tags)} onChange={(tags) => set('tags', tags.join(', '))} disabled={underWay} />
        <div className="row" role="radiogroup" aria-label="tag match">
          {(['ANY', 'ALL'] as const).map((m) => (
            <label key={m} className="inline">
              <input type="radio" name="tagMatch" checked={form.tagMatch === m} onChange={() => set('tagMatch', m)} />
              {m === 'ANY' ? 'any of the tags' : 'all of the tags'}
            </label>
          ))}
        </div>
        <FieldError errors={shown} fields={['filter']} />
        <p className="matching" aria-live="polite">
          {audience === undefined ? '…' : `${count(audience)} ${audience === 1 ? 'client matches' : 'clients match'}`}
        </p>
        <p className="hint">{underWay ? 'its audience, fixed at its start' : 'now, opted-out phones left out'}</p>
        {/* A text with placeholders is estimated from the audience's real values in the preview below (issue 20, item 7). */}
        {audience !== undefined && segments && segments.parts > 0 && measure?.placeholders === 0 && (
          <p className="estimate" aria-live="polite">
            ≈ {count(audience * segments.parts)} SMS parts billed ({segments.parts} a message)
          </p>
        )}
      </fieldset>
      <MailingPreview text={form.text} filter={settledFilter} />

      <fieldset>
        <legend>Rules</legend>
        <div className="row">
          <TextField label="Frequency cap" value={form.frequencyCap} onChange={(v) => set('frequencyCap', v)} placeholder="e.g. 2/24h (empty: Herald's)" errors={shown} field="frequencyCap" />
          <TextField label="Max failure rate" value={form.maxFailureRate} onChange={(v) => set('maxFailureRate', v)} placeholder="0–1, e.g. 0.5 (empty: Herald's)" errors={shown} field="maxFailureRate" />
        </div>
        <p className="hint">
          Frequency cap: at most that many messages to one client in the window, across mailings (s, m, h, d); over it, a message is skipped. Max failure
          rate: the mailing pauses itself when more than this share of its last 200 results failed. Empty: Herald's FREQUENCY_CAP and MAX_FAILURE_RATE.
        </p>
      </fieldset>

      <fieldset>
        <legend>Send window</legend>
        <label className="inline">
          <input type="checkbox" checked={form.windowed} onChange={(e) => set('windowed', e.target.checked)} />
          only between these times, in each client's local time
        </label>
        {form.windowed && (
          <div className="row">
            <label>
              From
              <input type="time" value={form.from} onChange={(e) => set('from', e.target.value)} />
            </label>
            <label>
              To
              <input type="time" value={form.to} onChange={(e) => set('to', e.target.value)} />
            </label>
          </div>
        )}
        <FieldError errors={shown} fields={['sendWindow', 'sendWindow.from', 'sendWindow.to']} />
      </fieldset>

      <FieldError errors={shown} fields={['', 'id', 'input']} />
      <div className="row">
        <button type="submit" disabled={created.loading || updated.loading}>
          {mailing ? 'Save' : 'Create mailing'}
        </button>
        <button type="button" className="secondary" onClick={() => history.back()}>
          Back
        </button>
      </div>
    </form>
    <TestSendBox text={form.text} />
    </>
  );
}

/** The text's segments as it is typed, or what is wrong with its placeholders. */
function TextSegments({ problem, measure }: { problem: string | null; measure: MeasureTextQuery['measureText'] | undefined }) {
  if (problem) {
    return (
      <p className="hint over segments" aria-live="polite">
        {problem}
      </p>
    );
  }
  if (!measure || measure.segments.parts === 0) return null;
  return (
    <>
      <SegmentsLine segments={measure.segments} live />
      {measure.placeholders > 0 && (
        <p className="hint">
          measured with each placeholder at its longest ({measure.placeholderLength} characters, or its default if longer)
        </p>
      )}
      {measure.segments.parts > measure.maxSegments && (
        <p className="hint over">More than {measure.maxSegments} parts: Herald refuses it.</p>
      )}
    </>
  );
}
