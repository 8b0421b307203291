/**
 * The part of npm `smpp` (0.5.1, plain JavaScript, no published types) that Herald uses.
 * PDUs carry their fields as properties named as in the SMPP 3.4 specification.
 */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  namespace smpp {
    class PDU {
      constructor(command: string, options?: Record<string, unknown>);
      command: string;
      command_id: number;
      command_status: number;
      sequence_number: number;
      isResponse(): boolean;
      response(options?: Record<string, unknown>): PDU;
      [field: string]: unknown;
    }

    /** what Session.send reads of a PDU: it numbers it and writes its toBuffer() */
    interface OutgoingPdu {
      sequence_number: number;
      isResponse(): boolean;
      toBuffer(): Buffer;
    }

    class Session extends EventEmitter {
      socket: Socket;
      /** false when the socket is no longer writable; `sent` is called once the PDU is written */
      /** any object with isResponse, sequence_number and toBuffer will do (Herald's SubmitSm) */
      send(pdu: PDU | OutgoingPdu, response?: (pdu: PDU) => void, sent?: (pdu: PDU) => void): boolean;
      close(callback?: () => void): void;
      destroy(callback?: () => void): void;
      pause(): void;
      resume(): void;
      bind_transceiver(options: Record<string, unknown>, response?: (pdu: PDU) => void): boolean;
      unbind(options?: Record<string, unknown>, response?: (pdu: PDU) => void): boolean;
      enquire_link(options?: Record<string, unknown>, response?: (pdu: PDU) => void): boolean;
    }

    class Server extends NetServer {
      sessions: Session[];
    }

    function createServer(options: Record<string, unknown>, listener: (session: Session) => void): Server;
    function connect(options: { host: string; port: number; [option: string]: unknown }, listener?: () => void): Session;

    /** the package's text coders: ASCII is GSM 03.38 (data_coding 0), UCS2 is UTF-16BE */
    const encodings: Record<'ASCII' | 'LATIN1' | 'UCS2', { encode(text: string): Buffer; decode(bytes: Buffer): string }>;

    /** every command status by its name (ESME_ROK, ESME_RTHROTTLED, …) */
    const errors: Record<string, number>;
  }

  export = smpp;
}
