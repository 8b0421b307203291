import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { buildSchema, getVariableValues, Kind, parse, validate, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, chai, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestHerald, type TestHerald } from './support/herald';

const schema = buildSchema(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));
const collection = JSON.parse(readFileSync(new URL('../postman/herald.postman_collection.json', import.meta.url), 'utf8'));

type Script = { listen: 'prerequest' | 'test'; script: { exec: string[] } };
type Auth = { type: string; bearer?: { key: string; value: string }[] };
type Item = {
  name: string;
  item?: Item[];
  event?: Script[];
  request?: { method?: string; auth?: Auth; header?: { key: string; value: string }[]; body?: { mode: string; graphql: { query: string; variables: string } }; url: { raw: string } };
};
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

  describe('run as a flow, every assertion green', () => {
    let herald: TestHerald;
    beforeAll(async () => {
      herald = await startTestHerald();
    });
    afterAll(() => herald?.stop());

    it('should give every request a test on its status, and every GraphQL one a test on errors', () => {
      for (const r of requests) {
        const test = (r.event ?? []).find((e) => e.listen === 'test')?.script.exec.join('\n') ?? '';
        expect(test, r.name).toContain('pm.response.to.have.status(');
        if (r.request?.body?.mode === 'graphql') expect(test, r.name).toMatch(/\.errors\)/);
      }
      const flow = collection.item.find((f: Item) => f.name === '1. Flow').item.map((i: Item) => i.name);
      const at = (name: string) => flow.indexOf(name);
      for (const [before, after] of [['createClient', 'client'], ['client', 'createMailing'], ['createMailing', 'mailing'], ['mailing', 'pauseMailing'], ['pauseMailing', 'resumeMailing'], ['resumeMailing', 'messages.csv'], ['messages.csv', 'deleteMailing'], ['deleteMailing', 'deleteClient']]) {
        expect(at(before), `${before} before ${after}`).toBeGreaterThanOrEqual(0);
        expect(at(before), `${before} before ${after}`).toBeLessThan(at(after));
      }
    });

    // Postman's sandbox as far as the collection uses it: pm.test, pm.expect (chai, as in
    // Postman), pm.response and pm.collectionVariables; each script in a context of its own.
    it('should pass every assertion when its requests run in order against a fresh Herald, twice', async () => {
      for (const run of [1, 2]) {
        const results = await runCollection(herald.url, ADMIN_TOKEN);
        const failed = results.filter((r) => !r.passed);
        expect(failed, `run ${run}`).toEqual([]);
        expect(results.length).toBeGreaterThan(requests.length * 2);
      }
    }, 60_000);

    // Asynchronously: Herald answers from this process's event loop.
    it.runIf(newman)('should pass every assertion under newman', async () => {
      const report = path.join(mkdtempSync(path.join(tmpdir(), 'herald-newman-')), 'report.json');
      const child = spawn(newman!, ['run', 'postman/herald.postman_collection.json', '--env-var', `baseUrl=${herald.url}`, '--env-var', `token=${ADMIN_TOKEN}`, '--reporters', 'cli,json', '--reporter-json-export', report, '--color', 'off'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => void (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => void (output += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code, output).toBe(0);
      const stats = JSON.parse(readFileSync(report, 'utf8')).run.stats;
      expect(stats.assertions.failed).toBe(0);
      expect(stats.assertions.total).toBeGreaterThan(requests.length * 2);
    }, 90_000);
  });
});

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** newman, when it is installed (a devDependency, or on PATH); else its test is skipped. */
const newman = [path.join(ROOT, 'node_modules/.bin/newman'), ...(process.env.PATH ?? '').split(':').map((d) => path.join(d, 'newman'))].find((p) => existsSync(p));

type Result = { request: string; test: string; passed: boolean; error?: string };

/** Runs the collection's requests in order as Postman's runner does: scripts, variables, auth. */
async function runCollection(baseUrl: string, token: string): Promise<Result[]> {
  const vars: Record<string, string> = { ...defaults, baseUrl, token };
  const results: Result[] = [];
  const sandbox = vm.createContext({ console }) as { pm?: unknown };
  const runScript = (item: Item, listen: Script['listen'], response?: { code: number; body: string }) => {
    const exec = item.event?.find((e) => e.listen === listen)?.script.exec;
    if (!exec) return;
    const pm = {
      collectionVariables: { get: (k: string) => vars[k], set: (k: string, v: unknown) => void (vars[k] = String(v)) },
      expect: chai.expect,
      test: (name: string, fn: () => void) => {
        try {
          fn();
          results.push({ request: item.name, test: name, passed: true });
        } catch (error) {
          results.push({ request: item.name, test: name, passed: false, error: String(error) });
        }
      },
      response: response && {
        code: response.code,
        text: () => response.body,
        json: () => JSON.parse(response.body),
        to: { have: { status: (code: number) => chai.expect(response.code, 'status').to.equal(code) } },
      },
    };
    // One scope for every script of a run, as newman has it (a second top-level const fails there too).
    sandbox.pm = pm;
    vm.runInContext(exec.join('\n'), sandbox);
  };
  for (const item of requests) {
    runScript(item, 'prerequest');
    const r = item.request!;
    const auth: Auth = r.auth ?? collection.auth;
    const headers: Record<string, string> = Object.fromEntries((r.header ?? []).map((h) => [h.key, substitute(h.value, vars)]));
    if (auth.type === 'bearer') headers.authorization = `Bearer ${substitute(auth.bearer!.find((b) => b.key === 'token')!.value, vars)}`;
    const body = r.body?.mode === 'graphql' ? JSON.stringify({ query: r.body.graphql.query, variables: JSON.parse(substitute(r.body.graphql.variables, vars)) }) : undefined;
    const res = await fetch(substitute(r.url.raw, vars), { method: r.method ?? 'GET', headers, body });
    runScript(item, 'test', { code: res.status, body: await res.text() });
  }
  return results;
}
