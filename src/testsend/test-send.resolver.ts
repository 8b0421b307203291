import { Arg, Ctx, Field, ID, Mutation, ObjectType, Resolver } from 'type-graphql';
import type { Context } from '../api/context';
import { MessageStatus } from '../messages/message.type';
import type { MessageStatus as MessageStatusValue } from '../messages/message.table';
import { Segments } from '../mailings/mailing.type';
import { segmentsOf } from '../mailings/segments';
import { testSend } from './test-send.service';

@ObjectType({ description: 'What a test send came to.' })
export class TestSendResult {
  @Field(() => ID, { description: 'its msgId at the gateway' }) id!: string;
  @Field(() => MessageStatus, { description: 'SENT, FAILED (any other answer: test sends are not retried) or SKIPPED (the phone opted out)' })
  status!: MessageStatusValue;
  @Field(() => String, { description: 'sent, rejected, unauthorized, throttled, retryable or opted-out' }) outcome!: string;
  @Field(() => String, { nullable: true }) error!: string | null;
  @Field(() => String, { description: 'the text as it went out, personalised for the client with that phone' }) text!: string;
  @Field(() => Segments, { description: 'how the text as it went out is billed' }) segments!: Segments;
}

@Resolver()
export class TestSendResolver {
  @Mutation(() => TestSendResult, { description: 'Sends one text to one phone now, through the gateway, to try it; recorded apart from mailings.' })
  async testSend(@Arg('text', () => String) text: string, @Arg('phone', () => String) phone: string, @Ctx() ctx: Context) {
    const result = await testSend(ctx.db, ctx.log, ctx.testSender, ctx.campaign.maxSegments, text, phone);
    return { ...result, segments: segmentsOf(result.text) };
  }
}
