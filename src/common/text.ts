import { UserInputError } from './errors';

// C0 control characters and DEL. PostgreSQL refuses NUL in text outright (the statement
// fails, and with it everything else it carried); the others are invisible in a console,
// break a CSV export and a log line, and no phone, tag, name or code needs them.
const CONTROL = /[\u0000-\u001F\u007F]/;
// In a text that may span lines (a mailing's or a test send's), tab and line breaks are fine.
const CONTROL_IN_MULTILINE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
// Half of a UTF-16 surrogate pair: not a character; written to PostgreSQL it silently
// becomes U+FFFD, so what was stored is not what was sent.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Throws BAD_USER_INPUT naming `field` when `value` holds a control character (or a lone surrogate). */
export function refuseControlCharacters(value: string, field: string, opts: { multiline?: boolean } = {}): string {
  const match = (opts.multiline ? CONTROL_IN_MULTILINE : CONTROL).exec(value);
  if (match) {
    const code = match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new UserInputError(field, `must not contain control characters (found U+${code} at position ${match.index})${opts.multiline ? '; tab and line breaks are allowed' : ''}`);
  }
  if (LONE_SURROGATE.test(value)) throw new UserInputError(field, 'must be valid Unicode text (it holds half of a surrogate pair)');
  return value;
}

/**
 * Which string arguments of which operations may hold line breaks and tabs (paths below the
 * field's arguments, `[]` standing for any list element), and which are checked row by row
 * by their service instead (a bad row of an import is reported alone; the call goes on).
 * Every other string of every query and mutation argument refuses control characters.
 */
export const TEXT_RULES: Record<string, { multiline?: readonly string[]; perRow?: readonly string[] }> = {
  createMailing: { multiline: ['input.text'] },
  updateMailing: { multiline: ['input.text'] },
  testSend: { multiline: ['text'] },
  importClients: { perRow: ['input'] },
};

/**
 * Checks every string in one operation field's arguments (object keys included, through
 * lists and input objects and JSON values), by TEXT_RULES; throws BAD_USER_INPUT naming the
 * first string at fault by its path, e.g. `input.tags[1]`.
 */
export function checkArgumentText(fieldName: string, args: Record<string, unknown>): void {
  const rules = TEXT_RULES[fieldName];
  for (const [name, value] of Object.entries(args)) {
    if (rules?.perRow?.includes(name)) continue;
    // Named as the services name their fields: `tags[1]`, `sendWindow.from`, not `input.…`.
    walk(value, name === 'input' ? '' : name, name, rules?.multiline ?? [], 0);
  }
}

function walk(value: unknown, path: string, pattern: string, multiline: readonly string[], depth: number): void {
  if (typeof value === 'string') {
    refuseControlCharacters(value, path, { multiline: multiline.includes(pattern) });
    return;
  }
  if (value === null || typeof value !== 'object' || value instanceof Date || depth > 20) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) walk(value[i], `${path || 'input'}[${i}]`, `${pattern}[]`, multiline, depth + 1);
    return;
  }
  for (const [key, inner] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    refuseControlCharacters(key, at.slice(0, 80));
    walk(inner, at, `${pattern}.${key}`, multiline, depth + 1);
  }
}
