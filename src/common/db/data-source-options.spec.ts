import { BoundedClient, QUERY_TIMEOUT_GRACE_MS } from './bounded-client';
import { buildDataSourceOptions } from './data-source-options';

describe('buildDataSourceOptions', () => {
  const extra = (options: ReturnType<typeof buildDataSourceOptions>) => (options as { extra: Record<string, unknown> }).extra;

  it('sets statement_timeout on every pooled connection when asked (the app pool)', () => {
    expect(extra(buildDataSourceOptions('postgres://localhost/x', 10, 5000))).toMatchObject({ max: 10, statement_timeout: 5000 });
  });

  it('bounds each statement on the client too (a frozen server cancels nothing), with a client that discards the connection', () => {
    expect(extra(buildDataSourceOptions('postgres://localhost/x', 10, 2000))).toMatchObject({ query_timeout: 2000 + QUERY_TIMEOUT_GRACE_MS, Client: BoundedClient });
  });

  it('sets none by default or with 0 (migrations, the CLI)', () => {
    for (const options of [buildDataSourceOptions('postgres://localhost/x', 1), buildDataSourceOptions('postgres://localhost/x', 10, 0)]) {
      expect(extra(options)).not.toHaveProperty('statement_timeout');
      expect(extra(options)).not.toHaveProperty('query_timeout');
      expect(extra(options)).not.toHaveProperty('Client');
    }
  });
});
