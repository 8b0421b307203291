import { GraphQLDateTime } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { MAILING_EVENT_KINDS, type MailingEventKind } from '../events/event.channel';
import { ClientFilter } from '../clients/client.type';
import { connectionType } from '../api/connection';
import { MessageStats } from '../messages/message.type';
import { MAILING_STATUSES, type MailingStatus as Status } from './mailing.table';
import { MAILING_ACTIONS, type MailingAction as Action } from './mailing.transitions';
import { MAILING_SORTS, type MailingSortValue } from './mailing.store';

export const MailingStatus = Object.fromEntries(MAILING_STATUSES.map((s) => [s, s])) as { [S in Status]: S };
registerEnumType(MailingStatus, {
  name: 'MailingStatus',
  description: 'SCHEDULED: waiting for startAt. RUNNING: sending. PAUSED: stopped by an operator, may resume. ' +
    'COMPLETED: every message reached a final status. CANCELLED: stopped for good by an operator.',
});

export const MailingAction = Object.fromEntries(MAILING_ACTIONS.map((a) => [a, a])) as { [A in Action]: A };
registerEnumType(MailingAction, {
  name: 'MailingAction',
  description: 'What the asker may do with a mailing now, each the mutation of that name: PAUSE, RESUME, CANCEL (pauseMailing, resumeMailing, cancelMailing), ' +
    'EDIT (updateMailing accepts a change), DELETE, DUPLICATE, RETRY_FAILED (it has FAILED messages to queue again).',
});

export const MailingSort = Object.fromEntries(MAILING_SORTS.map((s) => [s, s])) as { [S in MailingSortValue]: S };
registerEnumType(MailingSort, {
  name: 'MailingSort',
  description:
    'CREATED_AT (the default), NAME (its name, else its text, any case), STATUS, START_AT, STARTED_AT and FINISHED_AT (when it really started and finished), ' +
    'DURATION (finished − started, or so far), SENT (accepted by a provider), FAILED, FAILURE_SHARE (failed / (sent + failed)), DELIVERY_RATE (delivered / (delivered + undelivered)). ' +
    'Mailings without the value (not started, no receipts) come last either way; ties go newest first.',
});

@ObjectType({ description: 'A daily window in each client\'s local time; from > to wraps midnight.' })
export class SendWindow {
  @Field(() => String) from!: string;
  @Field(() => String) to!: string;
}

export const SmsEncoding = { GSM_7: 'GSM_7', UCS_2: 'UCS_2' } as const;
registerEnumType(SmsEncoding, { name: 'SmsEncoding', description: 'GSM_7: the GSM 03.38 alphabet, 160 a part (153 when split). UCS_2: anything else, 70 a part (67).' });

@ObjectType({ description: 'How a text is billed by the gateway.' })
export class Segments {
  @Field(() => SmsEncoding) encoding!: keyof typeof SmsEncoding;
  @Field(() => Int, { description: 'GSM-7 septets (extension characters count 2) or UCS-2 code units (an emoji counts 2)' })
  characters!: number;
  @Field(() => Int, { description: 'SMS parts, each billed' }) parts!: number;
  @Field(() => Int, { description: 'characters (as counted above) that still fit before the text takes one more part' })
  charactersLeft!: number;
}

@ObjectType({ description: 'One text sent to every client matching a filter between startAt and endAt.' })
export class Mailing {
  @Field(() => ID) id!: string;
  @Field(() => String, { nullable: true, description: 'a label for operators' }) name!: string | null;
  @Field(() => String, { description: 'may hold {{name}} and {{attributes.key}} placeholders, rendered for each client' }) text!: string;
  @Field(() => GraphQLDateTime) startAt!: Date;
  @Field(() => GraphQLDateTime, { description: 'nothing is sent at or after this instant' }) endAt!: Date;
  @Field(() => ClientFilter) filter!: ClientFilter;
  @Field(() => SendWindow, { nullable: true, description: 'messages go out only inside it' }) sendWindow?: SendWindow | null;
  @Field(() => MailingStatus) status!: Status;
  @Field(() => String, { nullable: true, description: 'why it paused itself (its failure rate), null when an operator paused it or it runs' })
  pausedReason!: string | null;
  @Field(() => String, { nullable: true, description: "who paused it, while PAUSED: the principal's id (api-token:N, oidc:…) for an operator's pause, 'Herald itself' when it paused itself" })
  pausedBy!: string | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'when it was paused, while PAUSED' })
  pausedAt!: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'when it started sending (its first start), null before' })
  startedAt!: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'when it reached COMPLETED or CANCELLED, null before (and again while a retry runs)' })
  finishedAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'at most that many messages to one client in the window, e.g. 2/24h: its own, else FREQUENCY_CAP' })
  frequencyCap!: string | null;
  @Field(() => Float, { description: 'it pauses itself when more than this share of its last 200 results failed' })
  maxFailureRate!: number;
  @Field(() => MessageStats) stats!: MessageStats;
  @Field(() => [MailingAction], { description: 'what the asker may do with it now (none for a viewer); a client shows these and decides nothing from the status' })
  actions!: Action[];
  @Field(() => Boolean, { description: 'started and not yet final: its audience and startAt are fixed, and its progress moves (RUNNING) or may resume (PAUSED)' })
  underWay!: boolean;
  @Field(() => GraphQLDateTime) createdAt!: Date;
  @Field(() => GraphQLDateTime) updatedAt!: Date;
}

export const MailingConnection = connectionType(Mailing, 'Mailing');

@ObjectType()
export class ThroughputPoint {
  @Field(() => GraphQLDateTime, { description: 'the start of its bucket' }) at!: Date;
  @Field(() => Int, { description: 'messages that reached SENT or FAILED in the bucket' }) count!: number;
  @Field(() => Float) perSecond!: number;
}

@ObjectType({ description: 'How fast a mailing\'s messages reached SENT or FAILED, from the first to the last of them.' })
export class Throughput {
  @Field(() => Int) bucketSeconds!: number;
  @Field(() => [ThroughputPoint]) points!: ThroughputPoint[];
}

@ObjectType({ description: 'Where a mailing stands, as sent to mailingProgress subscribers.' })
export class MailingProgress {
  @Field(() => ID) mailingId!: string;
  @Field(() => Mailing, {
    description: 'the mailing itself, its status and stats as of this event: a normalizing client cache (Apollo, urql) updates every view of it',
  })
  mailing!: Mailing;
  @Field(() => MailingStatus) status!: Status;
  @Field(() => MessageStats) stats!: MessageStats;
  @Field(() => Float, { description: 'messages reaching SENT or FAILED per second, over the last few seconds; 0 unless RUNNING' })
  ratePerSecond!: number;
  @Field(() => Float, { nullable: true, description: 'pending / rate; 0 when nothing is pending, null when nothing moves (a paused or scheduled mailing, a stalled one)' })
  etaSeconds!: number | null;
  @Field(() => Boolean, { description: 'RUNNING, and at the current rate (or stalled) not every pending message goes before endAt; never for a paused mailing' })
  atRisk!: boolean;
  @Field(() => GraphQLDateTime) at!: Date;
}

export const MailingChangeKind = Object.fromEntries(MAILING_EVENT_KINDS.map((k) => [k, k])) as { [K in MailingEventKind]: K };
registerEnumType(MailingChangeKind, { name: 'MailingChangeKind' });

@ObjectType({ description: 'A lifecycle event of a mailing, as sent to mailingsChanged subscribers.' })
export class MailingChange {
  @Field(() => ID) mailingId!: string;
  @Field(() => Mailing, { nullable: true, description: 'the mailing as it is now, for a client cache; null once deleted' })
  mailing?: Mailing | null;
  @Field(() => MailingChangeKind) kind!: MailingEventKind;
  @Field(() => MailingStatus, { nullable: true, description: 'null once deleted' }) status!: Status | null;
  @Field(() => GraphQLDateTime) at!: Date;
}
