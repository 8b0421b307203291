import {
  getOperationAST,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationTypeNode,
  type ValidationRule,
} from 'graphql';
import { assertMayRun } from '../auth/access';
import type { Principal, TokenRegistry } from '../auth/tokens';
import type { Logger } from '../logger';
import { depthLimit } from './depth-limit';
import { CodedError, UnauthenticatedError } from '../common/errors';
import { toGraphQLError } from './errors';
import { maskError } from './mask-error';
import type { OriginPolicy } from './origin';

export type Transport = 'http' | 'websocket';

export type GateOptions = {
  schema: GraphQLSchema;
  tokens: TokenRegistry;
  origins: OriginPolicy;
  maxDepth: number;
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
 * check, authentication, the validation rules (depth), the access rule, error masking and
 * one log line per operation. Apollo applies it to HTTP (a middleware, its context,
 * `validationRules`, plugins and `formatError`); graphql-ws, which Apollo does not run, to
 * the websocket (the upgrade, `onConnect`, `onSubscribe`, `onNext`, `onComplete`).
 */
export class OperationGate {
  readonly validationRules: ValidationRule[];

  constructor(private readonly opts: GateOptions) {
    this.validationRules = [depthLimit(opts.maxDepth)];
  }

  get origins(): OriginPolicy {
    return this.opts.origins;
  }

  /** Whether a page on `origin` may talk to Herald at `host`; a refusal is logged. */
  admitOrigin(transport: Transport, origin: string | undefined, host: string | undefined): boolean {
    if (this.opts.origins.allows(origin, host)) return true;
    this.opts.log.warn({ transport, origin }, 'request from a refused origin');
    return false;
  }

  /** The principal an `Authorization` value names; throws UNAUTHENTICATED (and logs it) otherwise. */
  authenticate(transport: Transport, authorization: unknown): Principal {
    const principal = this.opts.tokens.authenticate(authorization);
    if (principal) return principal;
    this.opts.log.warn({ transport, hasToken: authorization !== undefined }, 'unauthenticated request refused');
    throw toGraphQLError(new UnauthenticatedError());
  }

  authorize(principal: Principal, operation: OperationTypeNode | undefined): void {
    assertMayRun(principal, operation ?? 'query');
  }

  /**
   * Parsing, validation and access for a transport that has no Apollo in front of it: the
   * document to run, or the errors to answer with (coded as Apollo codes them over HTTP).
   */
  prepare(principal: Principal, query: string, operationName: string | null | undefined): { document: DocumentNode; operation: OperationTypeNode } | GraphQLError[] {
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      return [withCode(error, 'GRAPHQL_PARSE_FAILED')];
    }
    const errors = validate(this.opts.schema, document, [...specifiedRules, ...this.validationRules]);
    if (errors.length > 0) return errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
    const operation = getOperationAST(document, operationName)?.operation;
    if (!operation) return [new GraphQLError('no operation by that name in the document', { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })];
    try {
      this.authorize(principal, operation);
    } catch (error) {
      if (!(error instanceof CodedError)) throw error;
      return [toGraphQLError(error)];
    }
    return { document, operation };
  }

  mask(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    return maskError(this.opts.log, formatted, error);
  }

  /** Starts the clock of one operation; its log line is written by `finish`. */
  begin(transport: Transport, principal: Principal): OperationRecord {
    return new OperationRecord(this.opts.log, transport, principal, this.opts.observer);
  }
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
