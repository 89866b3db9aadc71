import { TransactionHost } from '@nestjs-cls/transactional';

/**
 * Two independent reads: side by side on the pool when no transaction is open, one after the other inside one (a
 * transaction is one connection, which runs one statement at a time; pg queues the second and warns).
 */
export async function sideBySide<A, B>(txHost: TransactionHost, a: () => Promise<A>, b: () => Promise<B>): Promise<[A, B]> {
  if (txHost.isTransactionActive()) return [await a(), await b()];
  return Promise.all([a(), b()]);
}
