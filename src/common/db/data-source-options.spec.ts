import { buildDataSourceOptions } from './data-source-options';

describe('buildDataSourceOptions', () => {
  const extra = (options: ReturnType<typeof buildDataSourceOptions>) => (options as { extra: Record<string, unknown> }).extra;

  it('sets statement_timeout on every pooled connection when asked (the app pool)', () => {
    expect(extra(buildDataSourceOptions('postgres://localhost/x', 10, 5000))).toMatchObject({ max: 10, statement_timeout: 5000 });
  });

  it('sets none by default or with 0 (migrations, the CLI)', () => {
    expect(extra(buildDataSourceOptions('postgres://localhost/x', 1))).not.toHaveProperty('statement_timeout');
    expect(extra(buildDataSourceOptions('postgres://localhost/x', 10, 0))).not.toHaveProperty('statement_timeout');
  });
});
