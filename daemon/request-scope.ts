// The request a piece of daemon code is working for, carried through the
// mailbox by AsyncLocalStorage: the control server runs each request's handler
// inside requestScope.run(), and code that holds something for the request
// (Supervisor.until()'s waiters) ties it to the request's AbortSignal, which
// fires when the client's connection closes. Code outside a request (autostart,
// shutdown) sees no scope and waits without a signal.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestScope {
  /** Aborted when the connection that made the request closes. */
  signal: AbortSignal;
}

export const requestScope = new AsyncLocalStorage<RequestScope>();
