import cronParser from 'cron-parser';

/** Why `cron` is not an expression pg-boss can schedule, or null. */
export function checkCron(cron: string): string | null {
  try {
    cronParser.parseExpression(cron, { tz: 'UTC' });
    return null;
  } catch (error) {
    return `not a cron expression (${(error as Error).message}); e.g. "0 8 * * *"`;
  }
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
