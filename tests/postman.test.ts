import { readFileSync } from 'node:fs';
import { buildSchema, getVariableValues, Kind, parse, validate, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestHerald, type TestHerald } from './support/herald';

const schema = buildSchema(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));
const collection = JSON.parse(readFileSync(new URL('../postman/herald.postman_collection.json', import.meta.url), 'utf8'));

type Item = { name: string; item?: Item[]; request?: { auth?: { type: string }; body?: { mode: string; graphql: { query: string; variables: string } }; url: { raw: string } } };
const flatten = (items: Item[]): Item[] => items.flatMap((i) => (i.item ? flatten(i.item) : [i]));
const requests = flatten(collection.item);
const graphqlRequests = requests.filter((r) => r.request?.body?.mode === 'graphql');
const defaults: Record<string, string> = Object.fromEntries(collection.variable.map((v: { key: string; value: string }) => [v.key, v.value]));

/** The text with Postman's {{variables}} put in, as Postman sends it. */
const substitute = (text: string, vars: Record<string, string>) => text.replace(/\{\{(\w+)\}\}/g, (_, k: string) => vars[k] ?? `{{${k}}}`);

describe('the Postman collection', () => {
  it('should hold every query and mutation of schema.graphql, each operation valid against it with valid example variables', () => {
    const covered = new Set<string>();
    for (const r of graphqlRequests) {
      const { query, variables } = r.request!.body!.graphql;
      const document = parse(query);
      expect(validate(schema, document), r.name).toEqual([]);
      const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
      expect(operations, r.name).toHaveLength(1);
      const values = getVariableValues(schema, operations[0].variableDefinitions ?? [], JSON.parse(substitute(variables, defaults)));
      expect(values.errors ?? [], r.name).toEqual([]);
      for (const sel of operations[0].selectionSet.selections) if (sel.kind === Kind.FIELD) covered.add(`${operations[0].operation}.${sel.name.value}`);
    }
    const expected = [
      ...Object.keys(schema.getQueryType()!.getFields()).map((f) => `query.${f}`),
      ...Object.keys(schema.getMutationType()!.getFields()).map((f) => `mutation.${f}`),
    ];
    expect([...covered].sort()).toEqual(expected.sort());
  });

  it('should authenticate with the bearer token variable and name only variables it defines', () => {
    expect(collection.auth).toEqual({ type: 'bearer', bearer: [{ key: 'token', value: '{{token}}', type: 'string' }] });
    for (const r of graphqlRequests) expect(r.request!.auth, r.name).toBeUndefined();
    const used = new Set([...JSON.stringify(collection.item).matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]));
    expect([...used].filter((k) => !(k in defaults))).toEqual([]);
    expect(requests.map((r) => r.request!.url.raw)).toContain('{{baseUrl}}/mailings/{{mailingId}}/messages.csv');
  });

  describe('run against Herald', () => {
    let herald: TestHerald;
    beforeAll(async () => {
      herald = await startTestHerald();
    });
    afterAll(() => herald?.stop());

    /** One request of the collection as Postman sends it, with these variables. */
    async function send(name: string, vars: Record<string, string>) {
      const r = graphqlRequests.find((i) => i.name === name)!;
      const res = await herald.gql(r.request!.body!.graphql.query, JSON.parse(substitute(r.request!.body!.graphql.variables, vars)));
      return res;
    }

    it('should create a client and a mailing with its examples, and answer every query without an error', async () => {
      const vars = { ...defaults };
      const client = await send('createClient', vars);
      expect(client.body.errors).toBeUndefined();
      vars.clientId = client.body.data.createClient.id;
      const mailing = await send('createMailing', vars);
      expect(mailing.body.errors).toBeUndefined();
      vars.mailingId = mailing.body.data.createMailing.id;
      for (const r of graphqlRequests.filter((i) => i.request!.body!.graphql.query.startsWith('query'))) {
        const res = await send(r.name, vars);
        expect({ name: r.name, status: res.status, errors: res.body.errors }).toEqual({ name: r.name, status: 200, errors: undefined });
      }
      const csv = await fetch(`${herald.url}/mailings/${vars.mailingId}/messages.csv`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(csv.status).toBe(200);
    });
  });
});
