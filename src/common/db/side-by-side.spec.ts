import { TransactionHost } from '@nestjs-cls/transactional';
import { sideBySide } from './side-by-side';

const host = (active: boolean) => ({ isTransactionActive: () => active }) as unknown as TransactionHost;

describe('sideBySide', () => {
  /** Records when each read starts and ends; each waits a tick so overlap is visible. */
  function reads() {
    const log: string[] = [];
    const read = (name: string, value: number) => async () => {
      log.push(`${name} start`);
      await new Promise((r) => setImmediate(r));
      log.push(`${name} end`);
      return value;
    };
    return { log, a: read('a', 1), b: read('b', 2) };
  }

  it('runs both at once outside a transaction', async () => {
    const { log, a, b } = reads();
    expect(await sideBySide(host(false), a, b)).toEqual([1, 2]);
    expect(log).toEqual(['a start', 'b start', 'a end', 'b end']);
  });

  it('runs one after the other inside a transaction (one connection)', async () => {
    const { log, a, b } = reads();
    expect(await sideBySide(host(true), a, b)).toEqual([1, 2]);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end']);
  });
});
