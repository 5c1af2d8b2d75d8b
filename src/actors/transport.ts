/**
 * What the router needs from something that carries events between processes (the SQLite event
 * log today, NATS JetStream later): an outbox for what this process publishes and a feed of what
 * the others published.
 */
import type { EventName } from '../events/catalog/index.js';
import type { Envelope } from '../events/envelope.js';

/** The router's side, handed to the transport by `start()`. */
export interface RemoteSink {
  /** Envelopes written by this runtime carry it; the transport must not feed them back. */
  readonly runtimeId: string;
  /**
   * True when a local subscription would receive this type: the transport need not even decode
   * an event nobody here listens to.
   */
  wants(type: EventName): boolean;
  /**
   * Delivers another process's event to the local subscribers. Returns false when a mailbox is
   * full: the transport must keep the event and offer it again later (nothing is dropped).
   */
  deliver(envelope: Envelope): boolean;
  /**
   * True when an event of this id was already delivered here (the cluster bridge hands inbound
   * events to its router before the file's poll finds them): the transport need not decode it.
   */
  seen?(envelopeId: string): boolean;
}

export interface EventTransport {
  /** Queues a cross-process envelope for writing; never blocks on I/O. */
  append(envelope: Envelope): void;
  /** Resolves when everything appended so far is durable. */
  flush(): Promise<void>;
  /** Starts feeding other processes' events, from now on, to `sink`. */
  start(sink: RemoteSink): void;
  /** Flushes, stops feeding, releases resources. */
  close(): Promise<void>;
  /** Whether it can write now; `problems` say why not. Never throws. */
  health?(): {
    readonly state: 'ok' | 'degraded' | 'failed';
    readonly reason: string | null;
    readonly queuedEvents: number;
  };
}
