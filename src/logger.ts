import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * One JSON logger for the process. Lines about a mailing, message or client carry
 * `mailingId`, `messageId` and `clientId` as fields (use `log.child({ mailingId })`),
 * so that grepping one id finds its whole story.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
    level,
    base: { service: 'herald' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Belt and braces: Herald never logs headers or tokens, but a future line that does
    // must not leak them. Named paths only: wildcard paths made pino walk every object of
    // every line, a cost on the line each message attempt writes.
    redact: {
      paths: ['authorization', 'headers.authorization', 'req.headers.authorization', 'token', 'senderToken', 'connectionParams'],
      censor: '[redacted]',
    },
  },
    // Asynchronous by default: lines written while a write is under way go out together in
    // the next one, instead of one write(2) per line (a line per message attempt adds up).
    // Buffered lines are flushed synchronously when the process exits; only a kill -9 can
    // lose the last few milliseconds of them.
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
