import { UserInputError } from '../common/errors';

/**
 * A mailing's text with placeholders for each client: `{{name}}` and `{{attributes.key}}`,
 * each with an optional default, `{{name|friend}}`. Parsed once at create and update (an
 * unknown or malformed placeholder is a BAD_USER_INPUT on `text`), rendered for each message
 * as it goes out.
 */
export type Placeholder = { kind: 'name' } | { kind: 'attribute'; key: string };
export type TemplatePart = string | { placeholder: Placeholder; fallback: string | null };
export type Template = TemplatePart[];

/** What a client brings to a text. */
export type TemplateValues = { name: string | null; attributes: Record<string, string> };

export const ATTRIBUTE_KEY = /^[A-Za-z0-9_]{1,32}$/;
/** The longest a client's name or an attribute's value may be (client.validation.ts holds clients to it). */
export const MAX_VALUE_LENGTH = 64;

const OPENING = '{{';
const CLOSING = '}}';

export function parseTemplate(text: string, field = 'text'): Template {
  const parts: TemplatePart[] = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf(OPENING, at);
    const strayClose = text.indexOf(CLOSING, at);
    if (strayClose !== -1 && (open === -1 || strayClose < open)) {
      throw new UserInputError(field, `"}}" at character ${strayClose + 1} closes no placeholder`);
    }
    if (open === -1) {
      parts.push(text.slice(at));
      break;
    }
    if (open > at) parts.push(text.slice(at, open));
    const close = text.indexOf(CLOSING, open + OPENING.length);
    if (close === -1) throw new UserInputError(field, `the placeholder at character ${open + 1} is not closed with "}}"`);
    const inner = text.slice(open + OPENING.length, close);
    if (inner.includes('{')) throw new UserInputError(field, `the placeholder at character ${open + 1} is not closed with "}}"`);
    parts.push(placeholderOf(inner, field));
    at = close + CLOSING.length;
  }
  return parts;
}

function placeholderOf(inner: string, field: string): TemplatePart {
  const bar = inner.indexOf('|');
  const path = (bar === -1 ? inner : inner.slice(0, bar)).trim();
  const fallback = bar === -1 ? null : inner.slice(bar + 1);
  if (fallback !== null && fallback.length > MAX_VALUE_LENGTH) {
    throw new UserInputError(field, `the default of {{${path}}} must be at most ${MAX_VALUE_LENGTH} characters`);
  }
  if (path === 'name') return { placeholder: { kind: 'name' }, fallback };
  const dot = path.indexOf('.');
  if (dot !== -1 && path.slice(0, dot) === 'attributes' && ATTRIBUTE_KEY.test(path.slice(dot + 1))) {
    return { placeholder: { kind: 'attribute', key: path.slice(dot + 1) }, fallback };
  }
  throw new UserInputError(field, `unknown placeholder {{${path}}}: use {{name}} or {{attributes.<key>}}, with an optional default as {{name|friend}}`);
}

/** Whether a text differs from client to client: it has a placeholder. */
export const isPersonalised = (template: Template): boolean => template.some((part) => typeof part !== 'string');

/** The text for one client: each placeholder its value, else its default, else nothing. */
export function render(template: Template, values: TemplateValues): string {
  let out = '';
  for (const part of template) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const value = part.placeholder.kind === 'name' ? values.name : values.attributes[part.placeholder.key];
    out += value ?? part.fallback ?? '';
  }
  return out;
}

/** The text as long as any client could make it: every placeholder at its longest value. */
export function longestRendering(template: Template): string {
  return template.map((part) => (typeof part === 'string' ? part : 'x'.repeat(Math.max(MAX_VALUE_LENGTH, part.fallback?.length ?? 0)))).join('');
}

