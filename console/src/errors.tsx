import { CombinedGraphQLErrors } from '@apollo/client';
import { useEffect, useRef, useState } from 'react';

/** "phone: must be 7 followed by 10 digits", shown next to the phone field, reads as the rest. */
export const withoutField = (field: string | null | undefined, message: string) =>
  field && message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;

/** Errors by the field they name (`extensions.field` or `extensions.fields`, e.g. `phone`, `filter.tags`); '' for the rest. */
export type FieldErrors = Record<string, string>;

export function fieldErrorsOf(error: unknown): FieldErrors {
  const errors: FieldErrors = {};
  if (CombinedGraphQLErrors.is(error)) {
    for (const e of error.errors) {
      // Every field at fault at once (`extensions.fields`: [{ field, message }]), else the one `field`.
      const fields = e.extensions?.fields;
      if (Array.isArray(fields) && fields.length > 0) {
        for (const f of fields) {
          if (f && typeof f.field === 'string' && typeof f.message === 'string' && errors[f.field] === undefined) errors[f.field] = withoutField(f.field, f.message);
        }
        continue;
      }
      const field = typeof e.extensions?.field === 'string' ? e.extensions.field : '';
      errors[field] = withoutField(field, e.message);
    }
  } else {
    errors[''] = error instanceof Error ? error.message : String(error);
  }
  return errors;
}

/** Every message of an error in one line, for where no field of its own shows it. */
export const messageOf = (error: unknown): string => Object.values(fieldErrorsOf(error)).join('; ');

/** `field`'s errors: its own and those of its items (`tags` also shows `tags[1]`'s). */
const about = (errors: FieldErrors, field: string) => Object.keys(errors).filter((k) => k === field || k.startsWith(`${field}[`));

export const hasError = (errors: FieldErrors, field: string) => about(errors, field).length > 0;

/**
 * The API's messages in a form's words: each field name the API uses ("must be after
 * startAt") becomes the label the operator sees ("must be after “Start”").
 */
export function inLabelWords(errors: FieldErrors, labels: Record<string, string>): FieldErrors {
  // Only the API's own spellings (startAt, sendWindow.from): a plain word such as "name" is English too.
  const names = Object.keys(labels)
    .filter((n) => /[A-Z.]/.test(n))
    .sort((a, b) => b.length - a.length);
  if (names.length === 0) return errors;
  const pattern = new RegExp(`\\b(${names.map((n) => n.replace(/[.[\]]/g, '\\$&')).join('|')})\\b`, 'g');
  return Object.fromEntries(Object.entries(errors).map(([field, message]) => [field, message.replace(pattern, (name) => `“${labels[name]}”`)]));
}

/** The errors without those about `fields` (and their items or parts): a field edited clears its own. */
export function withoutErrors(errors: FieldErrors, fields: string[]): FieldErrors {
  const gone = (k: string) => fields.some((f) => k === f || k.startsWith(`${f}.`) || k.startsWith(`${f}[`));
  if (!Object.keys(errors).some(gone)) return errors;
  return Object.fromEntries(Object.entries(errors).filter(([k]) => !gone(k)));
}

/**
 * After a submit that found errors, the first erroneous field of the form (in the page's
 * order) is scrolled into view and focused, so that an error below the fold is not missed.
 * `ref` goes on the <form>; `focusFirst()` is called with the errors' setState.
 */
export function useFirstErrorFocus<T extends HTMLElement = HTMLFormElement>() {
  const ref = useRef<T>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (attempt === 0 || !ref.current) return;
    const first = ref.current.querySelector<HTMLElement>('[aria-invalid="true"], .field-error');
    if (!first) return;
    const target = first.classList.contains('field-error') ? (first.closest('label')?.querySelector<HTMLElement>('input, textarea, select') ?? first) : first;
    target.scrollIntoView({ block: 'center' });
    if (target === first) first.tabIndex = -1;
    target.focus({ preventScroll: true });
  }, [attempt]);
  return { ref, focusFirst: () => setAttempt((a) => a + 1) };
}

/** The message(s) for any of `fields`, shown next to the input they are about. */
export function FieldError({ errors, fields }: { errors: FieldErrors; fields: string[] }) {
  const messages = [...new Set(fields.flatMap((f) => about(errors, f)))].map((f) => errors[f]);
  if (messages.length === 0) return null;
  return (
    <p className="field-error" role="alert" data-field={fields[0]}>
      {messages.join('; ')}
    </p>
  );
}
