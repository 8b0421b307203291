import { describe, expect, it } from 'vitest';
import { answerWithin, NoAnswerError } from '../../src/db/answer-within';

describe('answerWithin', () => {
  it('should give up on a call that never settles, saying what and how long', async () => {
    const never = new Promise<number>(() => {});
    const started = performance.now();
    const outcome = await answerWithin(never, 50, 'a dispatch claim').catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(NoAnswerError);
    expect((outcome as Error).message).toBe('a dispatch claim: the database gave no answer within 50 ms; given up, to be tried again');
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('should pass on an answer, or a failure, that comes in time', async () => {
    expect(await answerWithin(Promise.resolve(7), 1_000, 'x')).toBe(7);
    await expect(answerWithin(Promise.reject(new Error('refused')), 1_000, 'x')).rejects.toThrow('refused');
  });
});
