// What a request handler may know of its client's connection. Its own module so
// that the supervisor need not import the control server (daemon/server.ts),
// which imports the supervisor.

/** What a handler may know of its connection: a hook run when it closes. */
export interface Connection {
  onClose(fn: () => void): void;
  /** Sends one frame of a streamed answer (e.g. followed events). */
  push(frame: unknown): void;
  /** Sends one frame and resolves once the socket has room again (vmsup send's
   * back-pressure: the producer waits instead of the daemon buffering). */
  pushWait(frame: unknown): Promise<void>;
}
