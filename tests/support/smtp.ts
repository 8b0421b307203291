import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export type ReceivedMail = { from: string; to: string[]; raw: string; at: number };

/**
 * A real SMTP server on a loopback port (npm smtp-server), keeping every message it accepts.
 * `refuse` answers the next that many messages' DATA with a temporary failure (451).
 */
export async function startTestSmtp() {
  const received: ReceivedMail[] = [];
  const state = { refuse: 0, refused: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (state.refuse > 0) {
          state.refuse--;
          state.refused++;
          return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
        }
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    state,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The decoded body of a message's part with this content type (quoted-printable, base64 or plain). */
export function partOf(raw: string, contentType: 'text/plain' | 'text/html'): string {
  const start = raw.search(new RegExp(`^Content-Type: ${contentType.replace('/', '\\/')}`, 'mi'));
  if (start < 0) throw new Error(`no ${contentType} part in:\n${raw}`);
  const rest = raw.slice(start);
  const headerEnd = rest.search(/\r?\n\r?\n/);
  const headers = rest.slice(0, headerEnd);
  let body = rest.slice(headerEnd).replace(/^\r?\n\r?\n/, '');
  const boundary = body.search(/^--/m);
  if (boundary >= 0) body = body.slice(0, boundary);
  const encoding = /^Content-Transfer-Encoding:\s*(\S+)/im.exec(headers)?.[1]?.toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const flat = body.replace(/=\r?\n/g, '');
    const bytes: number[] = [];
    for (let i = 0; i < flat.length; i++) {
      if (flat[i] === '=' && /^[0-9A-F]{2}$/i.test(flat.slice(i + 1, i + 3))) {
        bytes.push(parseInt(flat.slice(i + 1, i + 3), 16));
        i += 2;
      } else bytes.push(...Buffer.from(flat[i], 'utf8'));
    }
    return Buffer.from(bytes).toString('utf8');
  }
  return body;
}

/** A header of the message, decoded when it is an encoded word (=?UTF-8?Q?…?=). */
export function headerOf(raw: string, name: string): string {
  const m = new RegExp(`^${name}: (.*(?:\\r?\\n[ \\t].*)*)`, 'mi').exec(raw);
  if (!m) return '';
  return m[1]
    .replace(/\r?\n[ \t]/g, ' ')
    .replace(/=\?utf-8\?([QB])\?(.*?)\?=\s?/gi, (_, enc: string, text: string) =>
      enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeURIComponent(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, '%$1')),
    )
    .trim();
}
