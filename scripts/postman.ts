// Writes postman/herald.postman_collection.json from schema.graphql: a flow in working order
// (a client, a mailing that starts now, its stats, pause, resume, export, ..., deleted again),
// the ids carried between requests in collection variables, every request with pm.test
// checks on its status and on `errors`; then bad-input examples with the code they must get,
// any operation the flow does not use (a Postman collection cannot hold websocket
// subscriptions), and the plain HTTP endpoints. Run it with newman against a fresh Herald
// (docs/api.md#postman); tests/postman.test.ts checks every operation against the schema and
// runs the whole collection, so a stale collection fails there: run `npm run postman:emit`
// after a schema change.
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

type Kind = 'query' | 'mutation';

/** A request of the collection: its scripts run before it (prerequest) and on its answer (test). */
type Step = { name: string; prerequest?: string[]; test: string[]; request: Record<string, unknown> };

const STATUS_200 = "pm.test('status is 200', () => pm.response.to.have.status(200));";
const NO_ERRORS = "pm.test('no errors', () => pm.expect(pm.response.json().errors).to.be.undefined);";

/** The operation of one root field, with its selection; `variables` as Postman sends them ({{…}} substituted). */
function operation(kind: Kind, fieldName: string, variables?: Record<string, unknown>, opName?: string) {
  const type = kind === 'query' ? schema.getQueryType()! : schema.getMutationType()!;
  const field = type.getFields()[fieldName];
  if (!field) throw new Error(`${kind} ${fieldName} is not in schema.graphql`);
  const used = variables ? field.args.filter((a) => a.name in variables) : field.args;
  const vars = used.map((a) => `$${a.name}: ${a.type}`);
  const args = used.map((a) => `${a.name}: $${a.name}`);
  const sel = selection(field.type, 1);
  const name = opName ?? field.name[0].toUpperCase() + field.name.slice(1);
  const query = `${kind} ${name}${vars.length ? `(${vars.join(', ')})` : ''} {\n  ${field.name}${args.length ? `(${args.join(', ')})` : ''}${sel ? ` ${sel}` : ''}\n}`;
  let values = variables;
  if (!values) {
    values = {};
    for (const a of field.args) if (isNonNullType(a.type) || ['first', 'since', 'filter'].includes(a.name)) values[a.name] = example(a.name, a.type, field.name);
  }
  return {
    method: 'POST',
    header: [{ key: 'Content-Type', value: 'application/json' }],
    body: { mode: 'graphql', graphql: { query, variables: JSON.stringify(values, null, 2) } },
    url: { raw: '{{baseUrl}}/graphql', host: ['{{baseUrl}}'], path: ['graphql'] },
    description: field.description ?? undefined,
  };
}

/** A flow step: status 200, no errors, then its own checks on `data` (a JS expression's lines). */
function ok(kind: Kind, field: string, variables: Record<string, unknown> | undefined, checks: string[] = [], prerequest?: string[], name = field): Step {
  return {
    name,
    ...(prerequest ? { prerequest } : {}),
    test: [STATUS_200, NO_ERRORS, ...checks],
    request: operation(kind, field, variables),
  };
}

/** A bad-input example: the code (and field) its first error must carry, and nothing changed. */
function refused(name: string, kind: Kind, field: string, variables: Record<string, unknown>, code: string, errorField?: string): Step {
  return {
    name,
    test: [
      STATUS_200,
      "pm.test('answered with errors, no data', () => { pm.expect(pm.response.json().errors).to.be.an('array').that.is.not.empty; pm.expect(pm.response.json().data).to.equal(null); });",
      `pm.test('code ${code}', () => pm.expect(pm.response.json().errors[0].extensions.code).to.equal('${code}'));`,
      ...(errorField ? [`pm.test('names the field ${errorField}', () => pm.expect(pm.response.json().errors[0].extensions.field).to.equal('${errorField}'));`] : []),
    ],
    request: operation(kind, field, variables, `${field[0].toUpperCase()}${field.slice(1)}Refused`),
  };
}

// Each in its own function: newman runs every script of a run in one scope, where a second
// top-level \`const data\` would be a SyntaxError.
const check = (title: string, assertion: string) => `pm.test(${JSON.stringify(title)}, () => { const data = pm.response.json().data; ${assertion}; });`;
const save = (variable: string, expression: string) => check(`keeps its id as {{${variable}}}`, `pm.collectionVariables.set('${variable}', ${expression})`);

// A phone and a tag of its own per run, so that the flow runs again on the same Herald, and the
// mailing's audience is this client alone.
const NEW_CLIENT = [
  "pm.collectionVariables.set('phone', '7916' + String(Math.floor(Math.random() * 1e7)).padStart(7, '0'));",
  "pm.collectionVariables.set('tag', 'postman-' + Date.now().toString(36));",
];
// The mailing starts now and ends in four hours; its send window (UTC, the client's time zone)
// opens in two hours, so that its message waits (not expired: the window opens before the
// end), and pause and resume find it RUNNING.
const NOW_FOR_AN_HOUR = [
  '{',
  'const now = Date.now();',
  "const hm = (ms) => new Date(ms).toISOString().slice(11, 16);",
  "pm.collectionVariables.set('startAt', new Date(now).toISOString());",
  "pm.collectionVariables.set('endAt', new Date(now + 4 * 3600e3).toISOString());",
  "pm.collectionVariables.set('windowFrom', hm(now + 2 * 3600e3));",
  "pm.collectionVariables.set('windowTo', hm(now + 3 * 3600e3));",
  '}',
];

const FLOW: Step[] = [
  ok('query', 'me', {}, [check('signed in as admin', "pm.expect(data.me.role).to.equal('ADMIN')")]),
  ok('query', 'providers', {}, [check('a provider', "pm.expect(data.providers).to.be.an('array').that.is.not.empty")]),
  ok('mutation', 'createClient', { input: { phone: '{{phone}}', timezone: 'UTC', tags: ['{{tag}}'], name: 'Anna', attributes: { city: 'Moscow' } } },
    [check('created', "pm.expect(data.createClient.phone).to.equal(pm.collectionVariables.get('phone'))"), save('clientId', 'data.createClient.id')], NEW_CLIENT),
  refused('createClient: the same phone again (CONFLICT)', 'mutation', 'createClient', { input: { phone: '{{phone}}', timezone: 'UTC' } }, 'CONFLICT', 'phone'),
  ok('query', 'client', { id: '{{clientId}}' }, [check('the client created', "pm.expect(data.client.id).to.equal(pm.collectionVariables.get('clientId'))")]),
  ok('query', 'clients', { first: 20, filter: { tags: ['{{tag}}'], tagMatch: 'ANY' } }, [check('found by its tag', 'pm.expect(data.clients.totalCount).to.equal(1)')]),
  ok('mutation', 'updateClient', { id: '{{clientId}}', input: { tags: ['{{tag}}', 'vip'] } }, [check('tagged', "pm.expect(data.updateClient.tags).to.include('vip')")]),
  ok('query', 'measureText', { text: 'Hello!' }, [check('one part', 'pm.expect(data.measureText.segments.parts).to.equal(1)')]),
  ok('query', 'previewMailing', { clientId: '{{clientId}}', text: 'Hello!' }, [check('rendered', "pm.expect(data.previewMailing.text).to.equal('Hello!')")]),
  ok('query', 'audiencePreview', { filter: { tags: ['{{tag}}'] } }, [check('this client', 'pm.expect(data.audiencePreview).to.equal(1)')]),
  ok('mutation', 'createMailing', {
    input: { name: 'Postman {{tag}}', text: 'Hello! Our spring sale starts today.', startAt: '{{startAt}}', endAt: '{{endAt}}', filter: { tags: ['{{tag}}'] }, sendWindow: { from: '{{windowFrom}}', to: '{{windowTo}}' } },
  }, [check('started at once', "pm.expect(data.createMailing.status).to.equal('RUNNING')"), save('mailingId', 'data.createMailing.id')], NOW_FOR_AN_HOUR),
  ok('query', 'mailing', { id: '{{mailingId}}' }, [check('its stats: one message', 'pm.expect(data.mailing.stats.total).to.equal(1)')]),
  ok('query', 'mailings', { first: 20, name: 'Postman' }, [check('listed', "pm.expect(data.mailings.edges.map((e) => e.node.id)).to.include(pm.collectionVariables.get('mailingId'))")]),
  ok('mutation', 'updateMailing', { id: '{{mailingId}}', input: { text: 'Hello! The spring sale goes on.' } }, [check('its new text', "pm.expect(data.updateMailing.text).to.equal('Hello! The spring sale goes on.')")]),
  ok('mutation', 'pauseMailing', { id: '{{mailingId}}' }, [check('paused', "pm.expect(data.pauseMailing.status).to.equal('PAUSED')")]),
  ok('mutation', 'resumeMailing', { id: '{{mailingId}}' }, [check('running again', "pm.expect(data.resumeMailing.status).to.equal('RUNNING')")]),
  {
    name: 'messages.csv',
    // Its message is a row once the dispatcher has claimed it (an audience is a cursor, not copied at the start): the header is certain.
    test: [STATUS_200, "pm.test('a CSV with its header', () => pm.expect(pm.response.text().split('\\n')[0]).to.match(/^id,clientId,phone,status,/));"],
    request: { method: 'GET', header: [], url: { raw: '{{baseUrl}}/mailings/{{mailingId}}/messages.csv', host: ['{{baseUrl}}'], path: ['mailings', '{{mailingId}}', 'messages.csv'] }, description: 'Every message of the mailing as CSV, streamed (same tokens as GraphQL).' },
  },
  refused('retryFailed: none of its messages FAILED (CONFLICT)', 'mutation', 'retryFailed', { mailingId: '{{mailingId}}' }, 'CONFLICT'),
  ok('mutation', 'duplicateMailing', { id: '{{mailingId}}' }, [check('a new mailing', "pm.expect(data.duplicateMailing.id).to.not.equal(pm.collectionVariables.get('mailingId'))"), save('duplicateId', 'data.duplicateMailing.id')]),
  ok('mutation', 'cancelMailing', { id: '{{duplicateId}}' }, [check('cancelled', "pm.expect(data.cancelMailing.status).to.equal('CANCELLED')")]),
  ok('mutation', 'testSend', { phone: '{{phone}}', text: 'A test from Postman' }, [check('sent through the provider', "pm.expect(data.testSend.outcome).to.equal('sent')")]),
  ok('mutation', 'optOut', { phone: '{{phone}}', reason: 'asked by phone' }, [check('opted out', 'pm.expect(data.optOut).to.equal(true)')]),
  ok('query', 'optOuts', { first: 20, phone: '{{phone}}' }, [check('listed', 'pm.expect(data.optOuts.edges).to.have.lengthOf(1)')]),
  ok('mutation', 'optIn', { phone: '{{phone}}' }, [check('opted in', 'pm.expect(data.optIn).to.equal(true)')]),
  ok('query', 'inboundMessages', { first: 20 }),
  ok('mutation', 'importClients', { input: [{ phone: '{{phone}}', timezone: 'UTC' }] }, [check('one row read', 'pm.expect(data.importClients.imported + data.importClients.failed).to.equal(1)')]),
  ok('mutation', 'createWebhook', { input: { url: 'https://203.0.113.10/herald', events: [webhookEvent()], description: 'from Postman' } }, [save('webhookId', 'data.createWebhook.webhook.id')]),
  ok('query', 'webhook', { id: '{{webhookId}}' }, [check('the webhook created', "pm.expect(data.webhook.id).to.equal(pm.collectionVariables.get('webhookId'))")]),
  ok('query', 'webhooks', {}, [check('listed', "pm.expect(data.webhooks.map((w) => w.id)).to.include(pm.collectionVariables.get('webhookId'))")]),
  ok('mutation', 'updateWebhook', { id: '{{webhookId}}', input: { enabled: false } }, [check('disabled', 'pm.expect(data.updateWebhook.enabled).to.equal(false)')]),
  ok('mutation', 'testWebhook', { id: '{{webhookId}}' }, [check('a TEST delivery', "pm.expect(data.testWebhook.type).to.equal('TEST')")]),
  ok('mutation', 'deleteWebhook', { id: '{{webhookId}}' }, [check('deleted', 'pm.expect(data.deleteWebhook).to.equal(true)')]),
  ok('mutation', 'sendStatisticsReport', { to: 'ops@example.com' }, [check('queued', 'pm.expect(data.sendStatisticsReport).to.equal(true)')]),
  ok('query', 'statistics', {}, [check('counts the mailings', 'pm.expect(data.statistics.mailingCount).to.be.at.least(1)')]),
  ok('mutation', 'deleteMailing', { id: '{{mailingId}}' }, [check('deleted', 'pm.expect(data.deleteMailing).to.equal(true)')]),
  ok('query', 'mailing', { id: '{{mailingId}}' }, [check('gone', 'pm.expect(data.mailing).to.equal(null)')], undefined, 'mailing (deleted)'),
  ok('mutation', 'deleteMailing', { id: '{{duplicateId}}' }, [check('deleted', 'pm.expect(data.deleteMailing).to.equal(true)')], undefined, 'deleteMailing (the copy)'),
  ok('mutation', 'deleteClient', { id: '{{clientId}}' }, [check('deleted', 'pm.expect(data.deleteClient).to.equal(true)')]),
];

function webhookEvent(): string {
  const events = schema.getType('WebhookEvent');
  if (!events || !isEnumType(events)) throw new Error('no WebhookEvent enum in schema.graphql');
  return events.getValues()[0].value as string;
}

// Bad input, each with the code it must be answered with (docs/api.md#errors-and-their-codes); none changes anything.
const REFUSED: Step[] = [
  refused('createClient: a phone not 7XXXXXXXXXX', 'mutation', 'createClient', { input: { phone: '12345', timezone: 'UTC' } }, 'BAD_USER_INPUT', 'phone'),
  refused('createClient: a time zone that is none', 'mutation', 'createClient', { input: { phone: '79160000000', timezone: 'Mars/Olympus' } }, 'BAD_USER_INPUT', 'timezone'),
  refused('createMailing: the end before the start', 'mutation', 'createMailing', { input: { text: 'Hello', startAt: '2030-06-01T10:00:00Z', endAt: '2030-06-01T09:00:00Z' } }, 'BAD_USER_INPUT', 'endAt'),
  refused('pauseMailing: a mailing that does not exist', 'mutation', 'pauseMailing', { id: '999999999' }, 'NOT_FOUND'),
];

// Whatever the flow does not use (an operation added since): example variables, checked for status and errors.
const inFlow = new Set(FLOW.map((s) => (s.request as { body?: { graphql: { query: string } } }).body?.graphql.query.match(/^\w+ \w+(?:\([^)]*\))? \{\n {2}(\w+)/)?.[1]).filter(Boolean));
const others = (type: GraphQLObjectType | null | undefined, kind: Kind): Step[] =>
  Object.values(type?.getFields() ?? {})
    .filter((f) => !inFlow.has(f.name))
    .map((f) => ({ name: f.name, test: [STATUS_200, NO_ERRORS], request: operation(kind, f.name) }));

const http = (name: string, path: string, description: string, auth: 'collection' | 'none' | 'metrics' = 'collection'): Step => ({
  name,
  test: [STATUS_200],
  request: {
    method: 'GET',
    ...(auth === 'none' ? { auth: { type: 'noauth' } } : auth === 'metrics' ? { auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{metricsToken}}', type: 'string' }] } } : {}),
    header: [],
    url: { raw: `{{baseUrl}}${path}`, host: ['{{baseUrl}}'], path: path.slice(1).split('/') },
    description,
  },
});

/** A step as Postman stores it: its scripts as events. */
const item = (step: Step) => ({
  name: step.name,
  event: [
    ...(step.prerequest ? [{ listen: 'prerequest', script: { type: 'text/javascript', exec: step.prerequest } }] : []),
    { listen: 'test', script: { type: 'text/javascript', exec: step.test } },
  ],
  request: step.request,
});

const otherSteps = [...others(schema.getQueryType(), 'query'), ...others(schema.getMutationType(), 'mutation')];

const collection = {
  info: {
    name: 'Herald',
    description:
      "Herald's GraphQL API and its HTTP endpoints, as a flow in working order: run the whole collection (newman run, or Postman's runner) " +
      'against a Herald with `baseUrl` and `token` (an admin token) set; every request checks its status and its errors, ids are carried ' +
      'between requests in collection variables. Then examples of bad input with the code each gets. Subscriptions run over graphql-ws on ' +
      'the same /graphql (websocket), which a collection cannot hold: use GraphiQL. Generated by `npm run postman:emit`.',
    schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
  },
  auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{token}}', type: 'string' }] },
  variable: [
    { key: 'baseUrl', value: 'http://127.0.0.1:4000' },
    { key: 'token', value: '' },
    { key: 'metricsToken', value: '' },
    // Set by the flow as it runs; these values only make each request valid on its own.
    { key: 'clientId', value: '1' },
    { key: 'mailingId', value: '1' },
    { key: 'duplicateId', value: '1' },
    { key: 'webhookId', value: '1' },
    { key: 'phone', value: '79161234567' },
    { key: 'tag', value: 'vip' },
    { key: 'startAt', value: day(9) },
    { key: 'endAt', value: day(21) },
    { key: 'windowFrom', value: '09:00' },
    { key: 'windowTo', value: '21:00' },
  ],
  item: [
    { name: '1. Flow', description: 'In order: each request uses what the ones before it made.', item: FLOW.map(item) },
    { name: '2. Bad input', description: 'Each refused with the code its tests name; nothing changes.', item: REFUSED.map(item) },
    ...(otherSteps.length ? [{ name: '3. Other operations', description: 'Operations the flow does not use, with example variables.', item: otherSteps.map(item) }] : []),
    {
      name: '4. HTTP',
      item: [
        http('healthz', '/healthz', '200 while the process serves.', 'none'),
        http('readyz', '/readyz', '200 when the database and the gateway are usable, else 503 with the reasons.', 'none'),
        http('metrics', '/metrics', 'Prometheus metrics (bearer METRICS_TOKEN when it is set; 404 with METRICS_ENABLED=false).', 'metrics'),
      ].map(item),
    },
  ],
};

writeFileSync(new URL('../postman/herald.postman_collection.json', import.meta.url), JSON.stringify(collection, null, 2) + '\n');
console.log('postman/herald.postman_collection.json written');
