import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from '../logger';
import type { ComposedReport } from './report.compose';

/**
 * Delivers a composed report: through SMTP_URL, or (no SMTP_URL, development) as an .eml
 * file under DATA_DIR/outbox/, which any mail client opens. Throws when the SMTP server
 * refuses or cannot be reached; the caller's job is then tried again.
 */
export class ReportMailer {
  private readonly transport: Transporter;

  constructor(
    private readonly opts: { smtpUrl: string | null; from: string; outboxDir: string },
    private readonly log: Logger,
  ) {
    this.transport = opts.smtpUrl
      ? // Short timeouts: a hung SMTP server holds up one report job, never more.
        nodemailer.createTransport(opts.smtpUrl, { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 } as never)
      : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  }

  /** Where it went: the SMTP server's answer, or the file. */
  async send(to: string, report: ComposedReport): Promise<string> {
    const info = await this.transport.sendMail({ from: this.opts.from, to, subject: report.subject, text: report.text, html: report.html });
    if (this.opts.smtpUrl) return `smtp: ${String((info as { response?: unknown }).response ?? 'accepted')}`;
    await mkdir(this.opts.outboxDir, { recursive: true });
    const file = path.resolve(this.opts.outboxDir, `report-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}.eml`);
    await writeFile(file, (info as { message: Buffer }).message);
    this.log.info({ file }, 'SMTP_URL is not set: the statistics report was written to this file instead of being sent');
    return file;
  }

  close(): void {
    this.transport.close();
  }
}
