import {
  getNamedType,
  getNullableType,
  GraphQLError,
  GraphQLList,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  parse,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { DEFAULT_PAGE_SIZE } from '../common/page';
import { MAX_IMPORT_ROWS } from '../clients/client.csv';
import { CostLimitError, LimitError, type CodedError } from '../common/errors';

export type OperationLimits = {
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
  maxDocumentBytes: number;
  introspection: boolean;
};

/**
 * Field selections one document may hold, fragments counted once. graphql-js's own rule that
 * fields merge (OverlappingFieldsCanBeMerged) compares selections of one name pairwise: 5,000
 * copies of `me { role }` cost it 180 ms, 10,000 (what the document size allows) 0.7 s. The
 * largest operation Herald's console or GraphiQL sends (introspection) has about 150.
 */
export const MAX_FIELDS = 2_000;
/**
 * Fields one selection set may hold under one response name, those of the fragments spread
 * into it and of same-named fields around it counted in: that same rule compares them
 * pairwise, so 250 copies of `me { role }` spread from 50 fragments cost it 150 ms, and 25
 * `mailings` of 25 `edges` each 100 ms. Real documents repeat a name two or three times.
 */
export const MAX_SAME_NAME = 25;
/** Fragment spreads in one document: that rule compares the fragments spread side by side pairwise. */
export const MAX_SPREADS = 50;
/**
 * The longest list a variable may hold: twice the most rows one `importClients` takes, so
 * that a call just over that limit still hears it from importClients, naming its field.
 */
export const MAX_LIST_LENGTH = 2 * MAX_IMPORT_ROWS;
/** Variables nested deeper than this are no input of Herald's. */
const MAX_VARIABLE_NESTING = 16;
/** The arguments that say how many items a list field returns. */
const SIZE_ARGUMENTS = new Set(['first', 'last', 'points']);

export type Checked = { document: DocumentNode; cost: number };

/**
 * What an operation may ask for, checked before graphql-js validates it (its rules are not
 * all linear in the document) and before anything runs, over HTTP and websocket alike: the
 * document's size, its field and alias counts, fragment cycles, depth, introspection, the
 * lengths of the lists in its variables, and its cost. Every check is one pass over the
 * document (fragments are measured once each and reused), so a refusal takes no longer
 * than parsing. Answers the parsed document and its cost; or a coded error; or `unparsed`
 * when the document is not valid GraphQL (for the transport to answer as it does).
 *
 * The cost is GitHub's estimate: each object a field may return counts 1, and a list
 * counts as many as its `first` (or `points`) says, or 50, its default; lists nest, so
 * `mailings(first: 100) { edges { node { messages(first: 100) { edges { node { id } } } } } }`
 * costs 1 + 100 + 100 + 100 + 10,000 + 10,000. Scalars are free.
 */
export function checkOperation(
  schema: GraphQLSchema,
  limits: OperationLimits,
  query: string,
  variables: Record<string, unknown> | null | undefined,
  operationName: string | null | undefined,
): Checked | CodedError | 'unparsed' {
  const analysis = analyse(schema, limits, query, operationName);
  return finish(analysis, variables);
}

/**
 * What checkOperation finds of a document whatever its variables: the answer itself, or the
 * parsed operation with its depth checked and its cost still to measure (against variables).
 */
type Analysis =
  | { kind: 'too large'; error: CodedError }
  | { kind: 'answer'; answer: Checked | CodedError | 'unparsed' }
  | { kind: 'measure'; document: DocumentNode; measure: (variables: Record<string, unknown>) => Checked | CodedError; fixed: Checked | CodedError | null };

function finish(analysis: Analysis, variables: Record<string, unknown> | null | undefined): Checked | CodedError | 'unparsed' {
  if (analysis.kind === 'too large') return analysis.error;
  // The variables' lists before anything else the document holds, as always.
  const listProblem = checkVariables(variables);
  if (listProblem) return listProblem;
  if (analysis.kind === 'answer') return analysis.answer;
  return analysis.fixed ?? analysis.measure(variables ?? {});
}

/** Documents an OperationChecker remembers, the least recently used forgotten first. */
export const CHECKED_DOCUMENTS = 1_000;
/** Longer documents are checked every time: the cache holds many small ones, not a few huge ones. */
const CACHED_DOCUMENT_BYTES = 64 * 1024;

/**
 * checkOperation with what does not depend on the variables (parsing, the counts, depth,
 * repeats; the cost too when the document names no variable) kept per document text and
 * operation name, in an LRU of CHECKED_DOCUMENTS: a dashboard sending the same query again
 * costs a map lookup, and the same DocumentNode goes on to validation (cached by the gate).
 */
export class OperationChecker {
  private readonly cache = new Map<string, Analysis>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly limits: OperationLimits,
    private readonly size = CHECKED_DOCUMENTS,
  ) {}

  check(query: string, variables: Record<string, unknown> | null | undefined, operationName: string | null | undefined): Checked | CodedError | 'unparsed' {
    if (query.length > CACHED_DOCUMENT_BYTES) return checkOperation(this.schema, this.limits, query, variables, operationName);
    const key = `${operationName ?? ''}\n${query}`;
    let analysis = this.cache.get(key);
    if (analysis) {
      this.cache.delete(key); // to the end: the most recently used
    } else {
      analysis = analyse(this.schema, this.limits, query, operationName);
      if (this.cache.size >= this.size) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(key, analysis);
    return finish(analysis, variables);
  }
}

function analyse(schema: GraphQLSchema, limits: OperationLimits, query: string, operationName: string | null | undefined): Analysis {
  const answer = (a: Checked | CodedError | 'unparsed'): Analysis => ({ kind: 'answer', answer: a });
  const bytes = Buffer.byteLength(query);
  if (bytes > limits.maxDocumentBytes) {
    return { kind: 'too large', error: new LimitError(`the document is ${bytes} bytes; at most ${limits.maxDocumentBytes} are allowed`, { limit: limits.maxDocumentBytes, actual: bytes }) };
  }
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch (error) {
    if (error instanceof GraphQLError) return answer('unparsed');
    // graphql-js parses by recursion: `{a{a{a…` thousands deep runs out of stack.
    if (error instanceof RangeError) return answer(new LimitError('the document is nested too deeply'));
    throw error;
  }

  const census = countSelections(document);
  if (census.aliases > limits.maxAliases) {
    return answer(new LimitError(`the document has ${census.aliases} aliases; at most ${limits.maxAliases} are allowed`, { limit: limits.maxAliases, actual: census.aliases }));
  }
  if (census.fields > MAX_FIELDS) {
    return answer(new LimitError(`the document selects ${census.fields} fields; at most ${MAX_FIELDS} are allowed`, { limit: MAX_FIELDS, actual: census.fields }));
  }
  if (census.introspects && !limits.introspection) {
    return answer(new LimitError('introspection is turned off on this server (GRAPHQL_INTROSPECTION)'));
  }

  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  if (census.spreads > MAX_SPREADS) {
    return answer(new LimitError(`the document spreads fragments ${census.spreads} times; at most ${MAX_SPREADS} are allowed`, { limit: MAX_SPREADS, actual: census.spreads }));
  }
  const operation = pickOperation(document, operationName);
  // No such operation: graphql-js and the transports answer that as they always have.
  if (!operation) return answer(checkRepeats(document, fragments) ?? { document, cost: 0 });

  const refused = (error: unknown): CodedError => {
    if (error instanceof FragmentCycle) return new LimitError(`fragment ${error.fragment} spreads itself`);
    if (error instanceof RangeError) return new LimitError('the document is nested too deeply');
    throw error;
  };
  let depth: number;
  try {
    depth = new Measure(schema, fragments, {}, operation).depth(operation.selectionSet);
  } catch (error) {
    return answer(refused(error));
  }
  // No figures in extensions here: clients have matched this answer, code alone, since before.
  if (depth > limits.maxDepth) return answer(new LimitError(`operation is nested ${depth} levels deep; at most ${limits.maxDepth} are allowed`));
  let repeats: CodedError | undefined | null = null; // null: not walked yet
  const measure = (variables: Record<string, unknown>): Checked | CodedError => {
    let cost: number;
    try {
      const root = schema.getRootType(operation.operation);
      cost = root ? new Measure(schema, fragments, variables, operation).cost(operation.selectionSet, root, 1, undefined) : 0;
    } catch (error) {
      return refused(error);
    }
    if (cost > limits.maxCost) return new CostLimitError(limits.maxCost, cost);
    // After the cost, which is measured without expanding fragments: this walk expands them (once a document).
    if (repeats === null) repeats = checkRepeats(document, fragments);
    return repeats ?? { document, cost: Math.max(1, cost) };
  };
  // Without a `$` the document names no variable: its cost is the same for any.
  return { kind: 'measure', document, measure, fixed: query.includes('$') ? null : measure({}) };
}

function checkRepeats(document: DocumentNode, fragments: Map<string, FragmentDefinitionNode>): CodedError | undefined {
  const repeated = mostRepeatedName(document, fragments);
  if (repeated === 'too complex') return new LimitError('the document is too complex to check (its fields, merged, are too many)');
  if (repeated.count <= MAX_SAME_NAME) return undefined;
  return new LimitError(`the field "${repeated.name}" is asked for ${repeated.count} times in one place; at most ${MAX_SAME_NAME} are allowed`, {
    limit: MAX_SAME_NAME,
    actual: repeated.count,
  });
}

function pickOperation(document: DocumentNode, name: string | null | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (name) return operations.find((o) => o.name?.value === name);
  return operations.length === 1 ? operations[0] : undefined;
}

/** Field nodes, aliases and introspection fields in the document as written (each fragment once). */
function countSelections(document: DocumentNode): { fields: number; aliases: number; spreads: number; introspects: boolean } {
  let fields = 0;
  let spreads = 0;
  let aliases = 0;
  let introspects = false;
  // An explicit stack: a document nested thousands deep must not overflow the call stack.
  const stack: SelectionSetNode[] = [];
  for (const def of document.definitions) if ('selectionSet' in def && def.selectionSet) stack.push(def.selectionSet);
  while (stack.length > 0) {
    for (const selection of stack.pop()!.selections) {
      if (selection.kind === Kind.FIELD) {
        fields++;
        if (selection.alias) aliases++;
        if (selection.name.value === '__schema' || selection.name.value === '__type') introspects = true;
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        spreads++;
      }
      if ('selectionSet' in selection && selection.selectionSet) stack.push(selection.selectionSet);
    }
  }
  return { fields, aliases, spreads, introspects };
}

class Repeated extends Error {
  constructor(
    readonly field: string,
    readonly count: number,
  ) {
    super(`"${field}" ${count} times`);
  }
}

/** Field nodes mostRepeatedName may visit; a document that needs more is refused as too complex. */
const MERGE_VISITS = 100_000;

/**
 * graphql-js's rule that fields merge (OverlappingFieldsCanBeMerged) compares, in every
 * selection set, the fields of one response name pairwise, fragments spread in counted in,
 * and then the union of their subselections the same way, level by level. This walks the
 * same merged tree but counts instead of comparing, and stops at the first name held more
 * than MAX_SAME_NAME times: the answer is the name and its count then, else the most seen.
 */
function mostRepeatedName(document: DocumentNode, fragments: Map<string, FragmentDefinitionNode>): { name: string; count: number } | 'too complex' {
  const most = { name: '', count: 0 };
  let visits = 0;
  const fieldsOf = (set: SelectionSetNode, out: FieldNode[], spreading: Set<string>) => {
    for (const selection of set.selections) {
      if (++visits > MERGE_VISITS) throw new RangeError('too complex');
      if (selection.kind === Kind.FIELD) out.push(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) fieldsOf(selection.selectionSet, out, spreading);
      else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment || spreading.has(fragment.name.value)) continue; // unknown or cyclic: reported elsewhere
        spreading.add(fragment.name.value);
        fieldsOf(fragment.selectionSet, out, spreading);
        spreading.delete(fragment.name.value);
      }
    }
  };
  const visit = (sets: SelectionSetNode[]) => {
    const fields: FieldNode[] = [];
    for (const set of sets) fieldsOf(set, fields, new Set());
    const byName = new Map<string, FieldNode[]>();
    for (const field of fields) {
      const name = (field.alias ?? field.name).value;
      const group = byName.get(name) ?? [];
      byName.set(name, group);
      group.push(field);
      if (group.length > most.count) Object.assign(most, { name, count: group.length });
      if (group.length > MAX_SAME_NAME) throw new Repeated(name, group.length);
    }
    for (const group of byName.values()) {
      const children = group.flatMap((f) => (f.selectionSet ? [f.selectionSet] : []));
      if (children.length > 0) visit(children);
    }
  };
  try {
    for (const def of document.definitions) if ('selectionSet' in def && def.selectionSet) visit([def.selectionSet]);
  } catch (error) {
    if (error instanceof Repeated) return { name: error.field, count: error.count };
    if (error instanceof RangeError) return 'too complex';
    throw error;
  }
  return most;
}

/** A list longer than MAX_LIST_LENGTH, or nesting deeper than any input of Herald's, anywhere in the variables. */
function checkVariables(variables: Record<string, unknown> | null | undefined): CodedError | undefined {
  if (!variables || typeof variables !== 'object') return undefined;
  const stack: { value: unknown; depth: number; name: string }[] = Object.entries(variables).map(([name, value]) => ({ value, depth: 1, name }));
  while (stack.length > 0) {
    const { value, depth, name } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_VARIABLE_NESTING) return new LimitError(`variable $${name} is nested deeper than ${MAX_VARIABLE_NESTING} levels`);
    if (Array.isArray(value)) {
      if (value.length > MAX_LIST_LENGTH) {
        return new LimitError(`variable $${name} holds a list of ${value.length} items; at most ${MAX_LIST_LENGTH} are allowed`, { limit: MAX_LIST_LENGTH, actual: value.length });
      }
      for (const item of value) stack.push({ value: item, depth: depth + 1, name });
    } else {
      for (const item of Object.values(value)) stack.push({ value: item, depth: depth + 1, name });
    }
  }
  return undefined;
}

class FragmentCycle extends Error {
  constructor(readonly fragment: string) {
    super(`fragment ${fragment} spreads itself`);
  }
}

/**
 * Depth and cost of one operation. Both are linear in how often a fragment is spread (a
 * fragment's cost at a multiplier m is m times its cost at 1), so each fragment is measured
 * once and its figure reused: fragments that spread each other twice, ten levels down, are
 * measured in ten steps, not a thousand.
 */
class Measure {
  private readonly depths = new Map<string, number>();
  private readonly costs = new Map<string, number>();
  private readonly inProgress = new Set<string>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: Map<string, FragmentDefinitionNode>,
    private readonly variables: Record<string, unknown>,
    private readonly operation: OperationDefinitionNode,
  ) {}

  /** Nested selection sets below this one: `{ me { role } }` is 1 deep. Introspection's own nesting is fixed and not counted. */
  depth(set: SelectionSetNode): number {
    let deepest = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.selectionSet && !selection.name.value.startsWith('__')) deepest = Math.max(deepest, 1 + this.depth(selection.selectionSet));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        deepest = Math.max(deepest, this.depth(selection.selectionSet));
      } else {
        deepest = Math.max(deepest, this.memo(this.depths, selection.name.value, (f) => this.depth(f.selectionSet)));
      }
    }
    return deepest;
  }

  /**
   * What `set` may return, `multiplier` times over; `pageSize` is the size its parent asked
   * for (`first`), which the lists directly inside (`edges`) have.
   */
  cost(set: SelectionSetNode, parent: GraphQLCompositeType, multiplier: number, pageSize: number | undefined): number {
    let total = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        total += this.fieldCost(selection, parent, multiplier, pageSize);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? this.schema.getType(selection.typeCondition.name.value) : parent;
        if (type && isCompositeType(type)) total += this.cost(selection.selectionSet, type, multiplier, pageSize);
      } else {
        const unit = this.memo(this.costs, `${selection.name.value}/${pageSize ?? ''}`, (f) => {
          const type = this.schema.getType(f.typeCondition.name.value);
          return type && isCompositeType(type) ? this.cost(f.selectionSet, type, 1, pageSize) : 0;
        }, selection.name.value);
        total += multiplier * unit;
      }
    }
    return total;
  }

  private fieldCost(field: FieldNode, parent: GraphQLCompositeType, multiplier: number, pageSize: number | undefined): number {
    if (!field.selectionSet || field.name.value.startsWith('__')) return 0;
    const definition = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[field.name.value] : undefined;
    if (!definition) return 0; // unknown fields are graphql-js's to report
    const type = getNamedType(definition.type);
    if (!isCompositeType(type)) return 0;
    const size = this.sizeOf(field, definition.args.some((a) => SIZE_ARGUMENTS.has(a.name)));
    if (size !== undefined) return multiplier + this.cost(field.selectionSet, type, multiplier, size);
    const length = getNullableType(definition.type) instanceof GraphQLList ? (pageSize ?? 1) : 1;
    return multiplier * length + this.cost(field.selectionSet, type, multiplier * length, undefined);
  }

  /** The value of the field's `first` (or `points`) argument, or the default page size when it takes one but is not given it. */
  private sizeOf(field: FieldNode, takesSize: boolean): number | undefined {
    const argument = field.arguments?.find((a) => SIZE_ARGUMENTS.has(a.name.value));
    if (!argument) return takesSize ? DEFAULT_PAGE_SIZE : undefined;
    const value = this.valueOf(argument.value);
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.ceil(value) : DEFAULT_PAGE_SIZE;
  }

  private valueOf(node: ValueNode): unknown {
    if (node.kind === Kind.INT || node.kind === Kind.FLOAT) return Number(node.value);
    if (node.kind !== Kind.VARIABLE) return undefined;
    const name = node.name.value;
    if (this.variables[name] !== undefined && this.variables[name] !== null) return this.variables[name];
    const declared = this.operation.variableDefinitions?.find((v) => v.variable.name.value === name)?.defaultValue;
    return declared ? this.valueOf(declared) : undefined;
  }

  private memo(cache: Map<string, number>, key: string, measure: (fragment: FragmentDefinitionNode) => number, name = key): number {
    const known = cache.get(key);
    if (known !== undefined) return known;
    const fragment = this.fragments.get(name);
    if (!fragment) return 0; // graphql-js reports an unknown fragment
    if (this.inProgress.has(key)) throw new FragmentCycle(name);
    this.inProgress.add(key);
    const value = measure(fragment);
    this.inProgress.delete(key);
    cache.set(key, value);
    return value;
  }
}
