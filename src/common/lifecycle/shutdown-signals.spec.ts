import { EventEmitter } from 'node:events';
import { onShutdownSignal, ShutdownSignal, ShutdownSignalOptions } from './shutdown-signals';

describe('onShutdownSignal', () => {
  function setup() {
    const source = new EventEmitter();
    let now = 0;
    const calls: [ShutdownSignal, number][] = [];
    const off = onShutdownSignal((signal, request) => calls.push([signal, request]), {
      source: source as unknown as ShutdownSignalOptions['source'],
      now: () => now,
      windowMs: 1000,
    });
    const emit = (signal: ShutdownSignal, at: number) => {
      now = at;
      source.emit(signal, signal);
    };
    return { source, calls, off, emit };
  }

  it('counts the copies of one Ctrl-C (terminal, npm, start.js) as one request', () => {
    const { calls, emit } = setup();
    emit('SIGINT', 0);
    emit('SIGINT', 3);
    emit('SIGINT', 40);
    expect(calls).toEqual([['SIGINT', 1]]);
  });

  it('numbers later requests, whichever signal brings them', () => {
    const { calls, emit } = setup();
    emit('SIGTERM', 0);
    emit('SIGINT', 1500);
    emit('SIGINT', 1600);
    emit('SIGHUP', 4000);
    expect(calls).toEqual([
      ['SIGTERM', 1],
      ['SIGINT', 2],
      ['SIGHUP', 3],
    ]);
  });

  it('removes its listeners', () => {
    const { source, off } = setup();
    expect(source.listenerCount('SIGTERM')).toBe(1);
    off();
    expect(['SIGTERM', 'SIGINT', 'SIGHUP'].map((s) => source.listenerCount(s))).toEqual([0, 0, 0]);
  });
});
