// Writes postman/herald.postman_collection.json from schema.graphql: one request per query and
// mutation (a Postman collection cannot hold websocket subscriptions), with example variables,
// collection variables for the URL, the token and the ids, and bearer auth on the collection;
// then the plain HTTP endpoints. tests/postman.test.ts checks every operation against the
// schema, so a stale collection fails there: run `npm run postman:emit` after a schema change.
import { readFileSync, writeFileSync } from 'node:fs';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLOutputType,
} from 'graphql';

const schema = buildSchema(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));
const MAX_DEPTH = 3;

/** The fields of a type worth showing: those without arguments (pages, throughput: asked for apart), to MAX_DEPTH. */
function selection(type: GraphQLOutputType, depth: number): string {
  const named = getNamedType(type);
  if (!isObjectType(named)) return '';
  const parts: string[] = [];
  for (const field of Object.values((named as GraphQLObjectType).getFields())) {
    if (field.args.length > 0) continue;
    const inner = getNamedType(field.type);
    if (isScalarType(inner) || isEnumType(inner)) parts.push(field.name);
    else if (depth < MAX_DEPTH) {
      const sub = selection(field.type, depth + 1);
      if (sub) parts.push(`${field.name} ${sub}`);
    }
  }
  return parts.length ? `{ ${parts.join(' ')} }` : '';
}

// Fixed, so that the file changes only with the schema: a day far enough ahead to schedule in.
const day = (h: number) => `2030-06-01T${String(h).padStart(2, '0')}:00:00Z`;

// Inputs as an operator would fill them in (the rest: from their types).
const INPUTS: Record<string, () => Record<string, unknown>> = {
  CreateClientInput: () => ({ phone: '79161234567', timezone: 'Europe/Moscow', tags: ['vip'], name: 'Anna', attributes: { city: 'Moscow' } }),
  UpdateClientInput: () => ({ tags: ['vip', 'moscow'] }),
  ClientFilterInput: () => ({ tags: ['vip'], tagMatch: 'ANY' }),
  CreateMailingInput: () => ({ name: 'Spring sale', text: 'Hello! Our spring sale starts today.', startAt: day(9), endAt: day(21), filter: { tags: ['vip'] }, sendWindow: { from: '09:00', to: '21:00' } }),
  UpdateMailingInput: () => ({ text: 'Hello! The spring sale goes on.' }),
  SendWindowInput: () => ({ from: '09:00', to: '21:00' }),
};

// Arguments by name (Postman substitutes {{…}}: ids come from the collection's variables).
const ARGUMENTS: Record<string, unknown> = {
  phone: '79161234567',
  text: 'Hello! Our spring sale starts today.',
  to: 'ops@example.com',
  reason: 'asked by phone',
  first: 20,
  since: '2026-01-01T00:00:00Z',
};

/** An example value for an argument: ids from collection variables, the rest by name or type. */
function example(name: string, type: GraphQLInputType, owner: string): unknown {
  if (isNonNullType(type)) return example(name, type.ofType, owner);
  if (isListType(type)) return [example(name, type.ofType, owner)];
  if (isEnumType(type)) return type.getValues()[0].value;
  if (isInputObjectType(type)) {
    const made = INPUTS[type.name];
    if (made) return made();
    return Object.fromEntries(Object.values(type.getFields()).filter((f) => isNonNullType(f.type)).map((f) => [f.name, example(f.name, f.type, owner)]));
  }
  if (name in ARGUMENTS) return ARGUMENTS[name];
  if (type.name === 'ID') return /client/i.test(name) || /client/i.test(owner) ? '{{clientId}}' : '{{mailingId}}';
  if (type.name === 'Int') return 1;
  if (type.name === 'Float') return 0.5;
  if (type.name === 'Boolean') return true;
  if (type.name === 'DateTime') return day(9);
  return name;
}

function request(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>) {
  const vars = field.args.map((a) => `$${a.name}: ${a.type}`);
  const args = field.args.map((a) => `${a.name}: $${a.name}`);
  const sel = selection(field.type, 1);
  const name = field.name[0].toUpperCase() + field.name.slice(1);
  const query = `${kind} ${name}${vars.length ? `(${vars.join(', ')})` : ''} {\n  ${field.name}${args.length ? `(${args.join(', ')})` : ''}${sel ? ` ${sel}` : ''}\n}`;
  const variables: Record<string, unknown> = {};
  for (const a of field.args) if (isNonNullType(a.type) || ['first', 'since', 'filter'].includes(a.name)) variables[a.name] = example(a.name, a.type, field.name);
  return {
    name: field.name,
    request: {
      method: 'POST',
      header: [{ key: 'Content-Type', value: 'application/json' }],
      body: { mode: 'graphql', graphql: { query, variables: JSON.stringify(variables, null, 2) } },
      url: { raw: '{{baseUrl}}/graphql', host: ['{{baseUrl}}'], path: ['graphql'] },
      description: field.description ?? undefined,
    },
  };
}

const folder = (name: string, type: GraphQLObjectType | null | undefined, kind: 'query' | 'mutation') => ({
  name,
  item: Object.values(type?.getFields() ?? {}).map((f) => request(kind, f)),
});

const http = (name: string, path: string, description: string, auth: 'collection' | 'none' | 'metrics' = 'collection') => ({
  name,
  request: {
    method: 'GET',
    ...(auth === 'none' ? { auth: { type: 'noauth' } } : auth === 'metrics' ? { auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{metricsToken}}', type: 'string' }] } } : {}),
    header: [],
    url: { raw: `{{baseUrl}}${path}`, host: ['{{baseUrl}}'], path: path.slice(1).split('/') },
    description,
  },
});

const collection = {
  info: {
    name: 'Herald',
    description:
      "Herald's GraphQL API (every query and mutation of schema.graphql) and its HTTP endpoints. Set `baseUrl` and `token` " +
      '(an admin token for mutations), and `mailingId` / `clientId` for the operations on one. Subscriptions run over graphql-ws ' +
      'on the same /graphql (websocket), which a collection cannot hold. Generated by `npm run postman:emit`.',
    schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
  },
  auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{token}}', type: 'string' }] },
  variable: [
    { key: 'baseUrl', value: 'http://127.0.0.1:4000' },
    { key: 'token', value: '' },
    { key: 'metricsToken', value: '' },
    { key: 'mailingId', value: '1' },
    { key: 'clientId', value: '1' },
  ],
  item: [
    folder('Queries', schema.getQueryType(), 'query'),
    folder('Mutations', schema.getMutationType(), 'mutation'),
    {
      name: 'HTTP',
      item: [
        http('messages.csv', '/mailings/{{mailingId}}/messages.csv', "Every message of the mailing as CSV, streamed (same tokens as GraphQL)."),
        http('metrics', '/metrics', 'Prometheus metrics (bearer METRICS_TOKEN when it is set).', 'metrics'),
        http('healthz', '/healthz', '200 while the process serves.', 'none'),
        http('readyz', '/readyz', '200 when the database and the gateway are usable, else 503 with the reasons.', 'none'),
      ],
    },
  ],
};

writeFileSync(new URL('../postman/herald.postman_collection.json', import.meta.url), JSON.stringify(collection, null, 2) + '\n');
console.log('postman/herald.postman_collection.json written');
