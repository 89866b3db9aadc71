import { createHmac, timingSafeEqual } from 'node:crypto';
import { newSigningSecret, signatureHeader } from './webhook-signature';

/** The verification snippet of docs/api.md "Webhooks", verbatim in logic. */
function verify(secret: string, header: string, body: string, toleranceSec = 300): boolean {
  const parts = header.split(',').map((p) => p.split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!t || Math.abs(Date.now() / 1000 - t) > toleranceSec) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return parts.filter(([k]) => k === 'v1').some(([, v]) => { const got = Buffer.from(v, 'hex'); return got.length === expected.length && timingSafeEqual(got, expected); });
}

describe('webhook signature', () => {
  const now = Math.floor(Date.now() / 1000);
  it('verifies with the secret, not with another or a changed body or an old timestamp', () => {
    const secret = newSigningSecret();
    const header = signatureHeader([secret], '{"a":1}', now);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verify(secret, header, '{"a":1}')).toBe(true);
    expect(verify(newSigningSecret(), header, '{"a":1}')).toBe(false);
    expect(verify(secret, header, '{"a":2}')).toBe(false);
    expect(verify(secret, signatureHeader([secret], '{"a":1}', now - 3600), '{"a":1}')).toBe(false);
  });
  it('signs with both secrets during a rotation', () => {
    const [a, b] = [newSigningSecret(), newSigningSecret()];
    const header = signatureHeader([b, a], 'x', now);
    expect(header.split(',v1=')).toHaveLength(3);
    expect(verify(a, header, 'x') && verify(b, header, 'x')).toBe(true);
  });
});
