import smpp from 'smpp';
import type { SendOutcome } from '../dispatch/dispatch.ports';

type Failure = Exclude<SendOutcome['kind'], 'sent'>;

/**
 * What a `submit_sm_resp` (or a `generic_nack` of a submit) command status means for the
 * message, by the SMPP 3.4 names of the statuses (§5.1.3). Anything not named here is
 * retryable: an SMSC's own codes (0x400 and up) say nothing we could act on, and a
 * retry after a backoff is the safe reading of an answer we do not know.
 */
const STATUSES: Record<Failure, readonly string[]> = {
  // The SMSC asks us to slow down: the message is fine, retried later, never failed.
  throttled: ['ESME_RTHROTTLED', 'ESME_RMSGQFUL'],
  // The SMSC refuses Herald itself (its account, not this message): stop until it works.
  unauthorized: ['ESME_RBINDFAIL', 'ESME_RINVPASWD', 'ESME_RINVSYSID', 'ESME_RINVSYSTYP', 'ESME_RSERTYPUNAUTH', 'ESME_RPROHIBITED'],
  // This message (its addresses, coding, length, flags) is bad: the same PDU would fail again.
  rejected: [
    'ESME_RINVMSGLEN',
    'ESME_RINVCMDLEN',
    'ESME_RINVPRTFLG',
    'ESME_RINVREGDLVFLG',
    'ESME_RINVSRCADR',
    'ESME_RINVDSTADR',
    'ESME_RINVSERTYP',
    'ESME_RINVNUMDESTS',
    'ESME_RINVDESTFLAG',
    'ESME_RINVSUBREP',
    'ESME_RINVESMCLASS',
    'ESME_RINVSRCTON',
    'ESME_RINVSRCNPI',
    'ESME_RINVDSTTON',
    'ESME_RINVDSTNPI',
    'ESME_RINVREPFLAG',
    'ESME_RINVSCHED',
    'ESME_RINVEXPIRY',
    'ESME_RINVDFTMSGID',
    'ESME_RX_P_APPN',
    'ESME_RX_R_APPN',
    'ESME_RINVTLVSTREAM',
    'ESME_RTLVNOTALLWD',
    'ESME_RINVTLVLEN',
    'ESME_RMISSINGTLV',
    'ESME_RINVTLVVAL',
    'ESME_RINVDCS',
    'ESME_RINVSRCADDRSUBUNIT',
    'ESME_RINVDSTADDRSUBUNIT',
  ],
  // Named for the docs' sake: the SMSC failed, not the message; it may work later.
  retryable: ['ESME_RSYSERR', 'ESME_RSUBMITFAIL', 'ESME_RINVBNDSTS', 'ESME_RALYBND', 'ESME_RX_T_APPN', 'ESME_RDELIVERYFAILURE', 'ESME_RUNKNOWNERR'],
};

const KINDS = new Map<number, Failure>();
const NAMES = new Map<number, string>();
for (const [name, code] of Object.entries(smpp.errors)) if (!NAMES.has(code)) NAMES.set(code, name);
for (const kind of Object.keys(STATUSES) as Failure[]) {
  for (const name of STATUSES[kind]) {
    const code = smpp.errors[name];
    if (code === undefined) throw new Error(`smpp defines no command status ${name}`);
    KINDS.set(code, kind);
  }
}

/** "ESME_RTHROTTLED (0x58)", or just the hex code for one the specification does not name. */
export function statusName(status: number): string {
  const hex = `0x${status.toString(16).padStart(2, '0')}`;
  const name = NAMES.get(status);
  return name ? `${name} (${hex})` : hex;
}

/**
 * What one submit's command status comes to: every status an SMSC answers maps to exactly
 * one outcome here and nowhere else (the table above; docs/dispatch.md repeats it). A
 * throttle carries no delay: SMPP has no Retry-After, so the engine backs off on its own.
 */
export function classifySubmitStatus(status: number): SendOutcome {
  if (status === 0) return { kind: 'sent' };
  const kind = KINDS.get(status) ?? 'retryable';
  const error = statusName(status);
  return kind === 'throttled' ? { kind, error, retryAfterMs: null } : { kind, error };
}

/** The kind a command status maps to, for tables and tests. */
export function kindOfStatus(status: number): SendOutcome['kind'] {
  return classifySubmitStatus(status).kind;
}
