import {
  getOperationAST,
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationTypeNode,
} from 'graphql';
import { assertMayRun } from '../auth/access';
import type { Authenticator } from '../auth/authenticator';
import { IssuerUnreachableError } from '../auth/oidc';
import type { Principal } from '../auth/tokens';
import type { Logger } from '../logger';
import { CodedError, RateLimitedError } from '../common/errors';
import type { CostBudget } from '../ratelimit/cost-budget';
import type { FailedAuthLimiter } from '../ratelimit/failed-auth';
import { toGraphQLError } from './errors';
import { OperationChecker, type Checked, type OperationLimits } from './limits';
import { maskError } from './mask-error';
import type { OriginPolicy } from './origin';

export type Transport = 'http' | 'websocket';

export type GateOptions = {
  schema: GraphQLSchema;
  auth: Authenticator;
  origins: OriginPolicy;
  limits: OperationLimits;
  budget: CostBudget;
  failedAuth: FailedAuthLimiter;
  log: Logger;
  /** told of each operation (metrics) */
  observer?: OperationObserver;
};

/** Hears operations: `started` once a websocket operation runs, `finished` once each ends. */
export type OperationObserver = {
  started(type: OperationTypeNode): void;
  finished(type: OperationTypeNode | null, outcome: 'ok' | 'error', seconds: number, wasStarted: boolean): void;
};

/**
 * The one path every GraphQL operation takes, whichever transport carries it: the origin
 * check, authentication (with failed attempts limited per address), the limits checked
 * before anything runs (document size, aliases, depth, introspection, cost; limits.ts), the
 * cost budget per principal, the access rule, error masking and one log line per operation.
 * Apollo applies it to HTTP (middlewares before Apollo, its context, plugins and
 * `formatError`); graphql-ws, which Apollo does not run, to the websocket (the upgrade,
 * `onConnect`, `onSubscribe`, `onNext`, `onComplete`).
 */
export class OperationGate {
  /** the limits per document text (an LRU: a document sent again is not parsed again) */
  private readonly checker: OperationChecker;
  /** graphql-js's validation of each cached document (the checker hands the same DocumentNode back) */
  private readonly validated = new WeakMap<DocumentNode, readonly GraphQLError[]>();

  constructor(private readonly opts: GateOptions) {
    this.checker = new OperationChecker(opts.schema, opts.limits);
  }

  get origins(): OriginPolicy {
    return this.opts.origins;
  }

  get introspection(): boolean {
    return this.opts.limits.introspection;
  }

  /** Whether a page on `origin` may talk to Herald at `host`; a refusal is logged. */
  admitOrigin(transport: Transport, origin: string | undefined, host: string | undefined): boolean {
    if (this.opts.origins.allows(origin, host)) return true;
    this.opts.log.warn({ transport, origin }, 'request from a refused origin');
    return false;
  }

  /**
   * The principal an `Authorization` value names; throws UNAUTHENTICATED (counted against the
   * address, and logged), FORBIDDEN (a verified token without a role), or RATE_LIMITED when
   * the address has failed too often this minute (then the token is not even looked at).
   */
  async authenticate(transport: Transport, authorization: unknown, address: string | undefined): Promise<Principal> {
    const from = address ?? 'unknown';
    const retryAfter = this.opts.failedAuth.retryAfterS(from);
    if (retryAfter > 0) {
      throw toGraphQLError(new RateLimitedError(`too many failed authentications from this address; retry in ${retryAfter} s`, { retryAfter }));
    }
    try {
      return await this.opts.auth.authenticate(authorization);
    } catch (error) {
      if (!(error instanceof CodedError)) throw error;
      if (error.extensions.code === 'UNAUTHENTICATED' && !(error instanceof IssuerUnreachableError)) {
        this.opts.failedAuth.fail(from, { transport, hasToken: authorization !== undefined, reason: error.message });
      }
      throw toGraphQLError(error);
    }
  }

  authorize(principal: Principal, operation: OperationTypeNode | undefined): void {
    assertMayRun(principal, operation ?? 'query');
  }

  /**
   * The limits (limits.ts) for one operation: its parsed document and cost, a coded error to
   * answer with, or `unparsed` for the transport to answer as a syntax error.
   */
  check(query: string, variables: unknown, operationName: string | null | undefined): Checked | GraphQLError | 'unparsed' {
    const vars = variables && typeof variables === 'object' && !Array.isArray(variables) ? (variables as Record<string, unknown>) : undefined;
    const checked = this.checker.check(query, vars, operationName);
    return checked instanceof CodedError ? toGraphQLError(checked) : checked;
  }

  /** Spends `cost` of the principal's budget; throws RATE_LIMITED (with retryAfter) when it is spent. */
  async charge(principal: Principal, cost: number): Promise<void> {
    try {
      await this.opts.budget.charge(principal, cost);
    } catch (error) {
      if (error instanceof CodedError) throw toGraphQLError(error);
      throw error;
    }
  }

  /**
   * Limits, parsing, validation, access and the budget for a transport that has no Apollo in
   * front of it: the document to run, or the errors to answer with (coded as over HTTP).
   */
  async prepare(
    principal: Principal,
    query: string,
    operationName: string | null | undefined,
    variables: unknown,
  ): Promise<{ document: DocumentNode; operation: OperationTypeNode } | GraphQLError[]> {
    const checked = this.check(query, variables, operationName);
    if (checked instanceof GraphQLError) return [checked];
    if (checked === 'unparsed') return [parseError(query)];
    const { document, cost } = checked;
    // graphql-js's own rules (its default); Herald's limits ran before them (see limits.ts).
    let errors = this.validated.get(document);
    if (!errors) this.validated.set(document, (errors = validate(this.opts.schema, document)));
    if (errors.length > 0) return errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
    const operation = getOperationAST(document, operationName)?.operation;
    if (!operation) return [new GraphQLError('no operation by that name in the document', { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })];
    try {
      this.authorize(principal, operation);
      await this.charge(principal, cost);
    } catch (error) {
      if (error instanceof CodedError) return [toGraphQLError(error)];
      if (error instanceof GraphQLError) return [error];
      throw error;
    }
    return { document, operation };
  }

  mask(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    const masked = maskError(this.opts.log, formatted, error);
    // graphql-js 16 suggests names ("Did you mean \"mailings\"?") with no switch to stop it:
    // where introspection is off, the schema is not to be guessed from the suggestions either.
    if (this.opts.limits.introspection || !masked.message.includes('Did you mean')) return masked;
    return { ...masked, message: masked.message.replace(/\s*Did you mean [^?]*\?/g, '') };
  }

  /** Starts the clock of one operation; its log line is written by `finish`. */
  begin(transport: Transport, principal: Principal): OperationRecord {
    return new OperationRecord(this.opts.log, transport, principal, this.opts.observer);
  }
}

/** graphql-js's syntax error for a document `check` found unparsable, coded as Apollo codes it. */
function parseError(query: string): GraphQLError {
  try {
    parse(query);
  } catch (error) {
    if (error instanceof GraphQLError) return withCode(error, 'GRAPHQL_PARSE_FAILED');
    if (error instanceof RangeError) return new GraphQLError('the document is nested too deeply', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
    throw error;
  }
  return new GraphQLError('the document could not be parsed', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
}

/** One operation on its way: named and typed once known, errors noted, logged once at the end. */
export class OperationRecord {
  name: string | null = null;
  type: OperationTypeNode | null = null;
  private readonly started = performance.now();
  private readonly codes = new Set<string>();
  private finished = false;
  private running = false;

  constructor(
    private readonly log: Logger,
    private readonly transport: Transport,
    private readonly principal: Principal,
    private readonly observer?: OperationObserver,
  ) {}

  /** It was admitted and runs (a subscription stays open until `finish`). */
  admitted(): void {
    if (this.running || !this.type) return;
    this.running = true;
    this.observer?.started(this.type);
  }

  noteErrors(errors: readonly (GraphQLError | GraphQLFormattedError)[] | undefined): void {
    for (const e of errors ?? []) this.codes.add(String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const seconds = (performance.now() - this.started) / 1000;
    this.observer?.finished(this.type, this.codes.size ? 'error' : 'ok', seconds, this.running);
    this.log.info(
      {
        operationName: this.name,
        operationType: this.type,
        transport: this.transport,
        role: this.principal.role,
        durationMs: Math.round(seconds * 10_000) / 10,
        outcome: this.codes.size ? 'error' : 'ok',
        ...(this.codes.size ? { errorCodes: [...this.codes] } : {}),
      },
      'graphql operation',
    );
  }
}

/**
 * graphql-js's own parse and validation errors carry no code; Apollo gives them one over
 * HTTP, and the websocket gives them the same, so that maskError lets them through.
 */
function withCode(error: GraphQLError, code: 'GRAPHQL_PARSE_FAILED' | 'GRAPHQL_VALIDATION_FAILED'): GraphQLError {
  if (error.extensions?.code) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}
