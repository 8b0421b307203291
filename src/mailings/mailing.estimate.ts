import { sql, type SQL } from 'drizzle-orm';
import { normalizeClientFilter } from '../clients/client.filter';
import type { Db } from '../db/connection';
import { shapeGroups, valueGroups } from './audience.store';
import { render, type Placeholder, type Template } from './mailing.template';
import { measureTemplate } from './mailing.validation';
import { segmentsOf } from './segments';

/**
 * What a mailing's text would cost its audience, from the clients' real values (issue 20,
 * item 7): the template is rendered with the dispatcher's renderer (mailing.template.ts
 * render) and billed with its splitter (segments.ts), once per distinct combination of the
 * values its placeholders read, weighted by how many clients share it. Exact up to
 * EXACT_GROUPS combinations; an audience with more is aggregated by the values' lengths and
 * plainness instead (audience.store shapeGroups) — still every client counted, but a value
 * outside plain ASCII counts as UCS-2, so `exact` is false and `parts` may be slightly high.
 */
export const EXACT_GROUPS = 10_000;

export type MailingEstimate = {
  audience: number;
  /** parts for the whole audience */
  parts: number;
  /** parts of the most common rendering (the median client's) */
  typicalParts: number;
  /** parts of the longest rendering among the audience */
  longestParts: number;
  /** parts with every placeholder at its longest value (what createMailing judges) */
  worstCaseParts: number;
  exact: boolean;
};

const columnOf = (p: Placeholder): SQL => (p.kind === 'name' ? sql`c.name` : sql`(c.attributes ->> ${p.key})`);
const keyOf = (p: Placeholder) => (p.kind === 'name' ? 'name' : `attributes.${p.key}`);

export async function estimateMailing(db: Db, textInput: string, filterInput: Parameters<typeof normalizeClientFilter>[0]): Promise<MailingEstimate> {
  const { template, segments } = measureTemplate(textInput);
  const filter = normalizeClientFilter(filterInput);
  // Each distinct placeholder once (a text may say {{name}} twice).
  const placeholders = [...new Map(template.flatMap((p) => (typeof p === 'string' ? [] : [p.placeholder])).map((p) => [keyOf(p), p])).values()];
  const columns = placeholders.map(columnOf);
  const valuesOf = (values: (string | null)[]) => {
    const attributes: Record<string, string> = {};
    let name: string | null = null;
    placeholders.forEach((p, i) => {
      const v = values[i];
      if (p.kind === 'name') name = v;
      else if (v != null) attributes[p.key] = v;
    });
    return { name, attributes };
  };
  const partsOf = (t: Template, values: (string | null)[]) => segmentsOf(render(t, valuesOf(values))).parts;

  let groups: { parts: number; count: number }[];
  let exact = true;
  const byValue = await valueGroups(db, filter, columns, EXACT_GROUPS + 1);
  if (byValue.length <= EXACT_GROUPS) {
    groups = byValue.map((g) => ({ parts: partsOf(template, g.values), count: g.count }));
  } else {
    exact = false;
    const shapes = await shapeGroups(db, filter, columns);
    groups = shapes.map((s) => ({
      parts: partsOf(template, s.lengths.map((n) => (n == null ? null : (s.plain ? 'a' : 'Ж').repeat(n)))),
      count: s.count,
    }));
  }
  const audience = groups.reduce((n, g) => n + g.count, 0);
  const parts = groups.reduce((n, g) => n + g.parts * g.count, 0);
  const longestParts = groups.reduce((n, g) => Math.max(n, g.parts), 0);
  // The median client's parts: the typical message.
  const sorted = [...groups].sort((a, b) => a.parts - b.parts);
  let seen = 0;
  let typicalParts = 0;
  for (const g of sorted) {
    seen += g.count;
    if (seen * 2 >= audience) {
      typicalParts = g.parts;
      break;
    }
  }
  return { audience, parts, typicalParts, longestParts, worstCaseParts: segments.parts, exact };
}
