import { and, arrayContains, arrayOverlaps, inArray, type SQL } from 'drizzle-orm';
import { InputProblems } from '../common/errors';
import { clients, type TagMatch } from './client.table';
import { normalizeOperatorCodes, normalizeTags } from './client.validation';

/** Which clients a mailing (or a `clients` query) is for. Empty lists match everyone. */
export type { TagMatch };
export type ClientFilter = { operatorCodes: string[]; tags: string[]; tagMatch: TagMatch };

export function normalizeClientFilter(
  input: { operatorCodes?: string[] | null; tags?: string[] | null; tagMatch?: TagMatch | null } | null | undefined,
  field = 'filter',
): ClientFilter {
  // Both lists' problems at once.
  const problems = new InputProblems();
  const operatorCodes = problems.check(() => normalizeOperatorCodes(input?.operatorCodes ?? [], `${field}.operatorCodes`));
  const tags = problems.check(() => normalizeTags(input?.tags ?? [], `${field}.tags`));
  problems.done();
  return { operatorCodes: operatorCodes!, tags: tags!, tagMatch: input?.tagMatch ?? 'ANY' };
}

/**
 * The filter as a WHERE condition on `clients`: operator code is any of the list; tags
 * overlap the list (ANY) or contain all of it (ALL). Served by the btree on operator_code
 * and the GIN index on tags. The same condition selects a mailing's audience.
 */
export function clientFilterCondition(filter: ClientFilter): SQL | undefined {
  const byCode = filter.operatorCodes.length > 0 ? inArray(clients.operatorCode, filter.operatorCodes) : undefined;
  const byTags =
    filter.tags.length === 0
      ? undefined
      : filter.tagMatch === 'ALL'
        ? arrayContains(clients.tags, filter.tags)
        : arrayOverlaps(clients.tags, filter.tags);
  return and(byCode, byTags);
}
