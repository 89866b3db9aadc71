import { checkUrlShape, checkWebhookUrl, isForbiddenAddress } from './ssrf-guard';

describe('ssrf-guard', () => {
  it.each([
    '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '127.0.0.1', '127.8.8.8', '169.254.169.254', '169.254.1.1',
    '100.64.0.1', '100.127.255.255', '224.0.0.1', '0.0.0.0', '255.255.255.255',
    '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '[::1]',
  ])('refuses %s', (addr) => expect(isForbiddenAddress(addr)).toBe(true));

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows %s', (addr) =>
    expect(isForbiddenAddress(addr)).toBe(false));

  it('refuses what is not an address', () => expect(isForbiddenAddress('example.com')).toBe(true));

  it('requires https unless private networks are allowed', () => {
    expect(checkUrlShape('http://example.com/', false)).toEqual({ ok: false, issue: 'must be https' });
    expect(checkUrlShape('http://example.com/', true).ok).toBe(true);
    expect(checkUrlShape('ftp://example.com/', true).ok).toBe(false);
    expect(checkUrlShape('https://u:p@example.com/', false).ok).toBe(false);
    expect(checkUrlShape('not a url', false).ok).toBe(false);
  });

  it('refuses hosts that resolve to any forbidden address, and literal ones without resolving', async () => {
    const resolve = jest.fn(async (host: string) => (host === 'evil.test' ? ['93.184.216.34', '10.0.0.5'] : ['93.184.216.34']));
    expect((await checkWebhookUrl('https://evil.test/hook', false, resolve)).ok).toBe(false);
    expect((await checkWebhookUrl('https://good.test/hook', false, resolve)).ok).toBe(true);
    expect((await checkWebhookUrl('https://[::ffff:127.0.0.1]/', false, resolve)).ok).toBe(false);
    expect((await checkWebhookUrl('https://169.254.169.254/', false, resolve)).ok).toBe(false);
    expect(resolve).toHaveBeenCalledTimes(2);
    expect((await checkWebhookUrl('https://nowhere.test/', false, async () => { throw new Error('ENOTFOUND'); })).ok).toBe(false);
    expect((await checkWebhookUrl('http://127.0.0.1:9/', true, resolve)).ok).toBe(true);
  });
});
