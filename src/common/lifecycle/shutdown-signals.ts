/** Signals that ask the server to stop: SIGTERM (orchestrators, `kill`), SIGINT (Ctrl-C), SIGHUP (terminal closed). */
export const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
export type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number];

/**
 * Within this window, further signals are copies of the same request: one Ctrl-C reaches the server from the terminal
 * (the whole foreground process group gets SIGINT) and again through each wrapper that forwards it (npm, scripts/start.js).
 */
export const DUPLICATE_SIGNAL_WINDOW_MS = 1000;

interface SignalSource {
  on(event: ShutdownSignal, listener: (signal: ShutdownSignal) => void): unknown;
  removeListener(event: ShutdownSignal, listener: (signal: ShutdownSignal) => void): unknown;
}

export interface ShutdownSignalOptions {
  windowMs?: number;
  now?: () => number;
  /** Defaults to `process`. */
  source?: SignalSource;
}

/**
 * Calls `handler(signal, request)` once per stop request: `request` counts 1, 2, 3… Signals arriving within
 * `windowMs` of the last counted one are dropped as duplicates. Installing it replaces Node's default (exit at once).
 * Returns a function that removes the listeners.
 */
export function onShutdownSignal(handler: (signal: ShutdownSignal, request: number) => void, options: ShutdownSignalOptions = {}): () => void {
  const { windowMs = DUPLICATE_SIGNAL_WINDOW_MS, now = Date.now, source = process } = options;
  let requests = 0;
  let last = -Infinity;
  const listener = (signal: ShutdownSignal) => {
    const at = now();
    if (at - last < windowMs) return;
    last = at;
    handler(signal, ++requests);
  };
  for (const signal of SHUTDOWN_SIGNALS) source.on(signal, listener);
  return () => {
    for (const signal of SHUTDOWN_SIGNALS) source.removeListener(signal, listener);
  };
}
