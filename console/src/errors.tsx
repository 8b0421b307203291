import { CombinedGraphQLErrors } from '@apollo/client';

/** "phone: must be 7 followed by 10 digits", shown next to the phone field, reads as the rest. */
export const withoutField = (field: string | null | undefined, message: string) =>
  field && message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;

/** Errors by the field they name (`extensions.field` or `extensions.fields`, e.g. `phone`, `filter.tags`); '' for the rest. */
export type FieldErrors = Record<string, string>;

export function fieldErrorsOf(error: unknown): FieldErrors {
  const errors: FieldErrors = {};
  if (CombinedGraphQLErrors.is(error)) {
    for (const e of error.errors) {
      // Several fields at fault at once (`extensions.fields`: field → message), or the one `field`.
      const fields = e.extensions?.fields;
      if (fields && typeof fields === 'object' && !Array.isArray(fields)) {
        for (const [field, message] of Object.entries(fields)) if (typeof message === 'string') errors[field] = withoutField(field, message);
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

/** The message(s) for any of `fields`, shown next to the input they are about. */
export function FieldError({ errors, fields }: { errors: FieldErrors; fields: string[] }) {
  const messages = fields.filter((f) => errors[f] !== undefined).map((f) => errors[f]);
  if (messages.length === 0) return null;
  return (
    <p className="field-error" role="alert" data-field={fields[0]}>
      {messages.join('; ')}
    </p>
  );
}
