import { decryptWithDek, encryptWithDek, Envelope, envelopeDecrypt, envelopeEncrypt, fromB64, generateDek, toB64 } from './envelope';
import { CryptoError } from './kms';
import { LocalKms } from './local-kms';

const hex = (s: string) => Buffer.from(s, 'hex');
const DEK = Buffer.from(Array.from({ length: 32 }, (_, i) => i)); // 00 01 … 1f
const IV = Buffer.from(Array.from({ length: 12 }, (_, i) => 0xa0 + i)); // a0 a1 … ab
const kms = () => new LocalKms({ masterKey: Buffer.alloc(32, 7).toString('base64'), keyVersion: 1, retiredKeys: [] });

function flipped(buf: Buffer, index: number): Buffer {
  const copy = Buffer.from(buf);
  copy[index] ^= 0x01;
  return copy;
}

describe('encryptWithDek / decryptWithDek (read-flow wrap: AES-256-GCM, 12-byte iv, 16-byte tag, no AAD)', () => {
  it('matches the published AES-256-GCM vector (McGrew–Viega test case 14)', () => {
    const out = encryptWithDek(Buffer.alloc(32), Buffer.alloc(16), { iv: Buffer.alloc(12) });
    expect(out.ciphertext.toString('hex')).toBe('cea7403d4d606b6e074ec5d3baf39d18');
    expect(out.tag.toString('hex')).toBe('d0d1c8a799996bf0265b98b5d48ab919');
  });

  it('gives the pinned ciphertext and tag for a fixed key, iv and UTF-8 value, and decrypts it back', () => {
    const out = encryptWithDek(DEK, Buffer.from('correct horse battery staple', 'utf8'), { iv: IV });
    expect(out.iv).toEqual(IV);
    expect(out.ciphertext.toString('hex')).toBe('85770e5f20a8769f0a0af5a0625aa2bf04d83c62eb973118fd7e4ae3');
    expect(out.tag.toString('hex')).toBe('890950c3a10333cd8dc0f8fced25dcdc');
    const back = decryptWithDek(DEK, {
      iv: IV,
      tag: hex('890950c3a10333cd8dc0f8fced25dcdc'),
      ciphertext: hex('85770e5f20a8769f0a0af5a0625aa2bf04d83c62eb973118fd7e4ae3'),
    });
    expect(back.toString('utf8')).toBe('correct horse battery staple');
  });

  it('uses a fresh random 12-byte iv and a 16-byte tag for each encryption', () => {
    const a = encryptWithDek(DEK, Buffer.from('same'));
    const b = encryptWithDek(DEK, Buffer.from('same'));
    expect(a.iv).toHaveLength(12);
    expect(a.tag).toHaveLength(16);
    expect(a.iv.equals(b.iv)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
  });

  it('round-trips an empty value', () => {
    expect(decryptWithDek(DEK, encryptWithDek(DEK, Buffer.alloc(0)))).toEqual(Buffer.alloc(0));
  });

  it('refuses any altered byte of iv, tag or ciphertext, and a wrong key', () => {
    const out = encryptWithDek(DEK, Buffer.from('s3cret value'));
    for (const field of ['iv', 'tag', 'ciphertext'] as const) {
      for (let i = 0; i < out[field].length; i++) {
        expect(() => decryptWithDek(DEK, { ...out, [field]: flipped(out[field], i) })).toThrow(CryptoError);
      }
    }
    expect(() => decryptWithDek(flipped(DEK, 0), out)).toThrow(/Decryption failed/);
  });

  it('refuses a truncated tag (GCM would otherwise accept short, forgeable tags) and wrong key or iv sizes', () => {
    const out = encryptWithDek(DEK, Buffer.from('x'));
    expect(() => decryptWithDek(DEK, { ...out, tag: out.tag.subarray(0, 12) })).toThrow(/tag must be 16 bytes/);
    expect(() => decryptWithDek(DEK.subarray(0, 16), out)).toThrow(/DEK must be 32 bytes/);
    expect(() => encryptWithDek(DEK, Buffer.from('x'), { iv: Buffer.alloc(16) })).toThrow(/iv must be 12 bytes/);
  });
});

describe('toB64 / fromB64', () => {
  it('is standard base64 with padding', () => {
    expect(toB64(hex('fbff'))).toBe('+/8=');
    expect(fromB64('+/8=')).toEqual(hex('fbff'));
    expect(fromB64('')).toEqual(Buffer.alloc(0));
    expect(fromB64(toB64(DEK), 32)).toEqual(DEK);
  });

  it.each([
    ['-_8=', 'url-safe alphabet'],
    ['+/8', 'missing padding'],
    ['+/9=', 'non-zero trailing bits'],
    ['+/8=\n', 'whitespace'],
    ['+/ 8=', 'inner space'],
    ['+/8==', 'extra padding'],
    ['=', 'padding only'],
  ])('refuses %j (%s)', (input) => {
    expect(() => fromB64(input)).toThrow(CryptoError);
  });

  it('refuses a wrong length when one is expected', () => {
    expect(() => fromB64(toB64(Buffer.alloc(31)), 32)).toThrow('Expected 32 bytes, got 31.');
  });
});

describe('envelopes (DEK under the KMS)', () => {
  it('generateDek returns 32 random bytes and the same key wrapped', async () => {
    const k = kms();
    const { dek, wrappedDek } = await generateDek(k, 'wrap:1');
    expect(dek).toHaveLength(32);
    expect(await k.unwrap(wrappedDek, 'wrap:1')).toEqual(dek);
    expect((await generateDek(k)).dek.equals(dek)).toBe(false);
  });

  it('round-trips, bound to the context', async () => {
    const k = kms();
    const env = await envelopeEncrypt(k, Buffer.from('hunter2'), 'request:7/wrap:3');
    expect(env.iv).toHaveLength(12);
    expect(env.tag).toHaveLength(16);
    expect(env.ciphertext.includes(Buffer.from('hunter2'))).toBe(false);
    expect((await envelopeDecrypt(k, env, 'request:7/wrap:3')).toString()).toBe('hunter2');
    await expect(envelopeDecrypt(k, env, 'request:8/wrap:3')).rejects.toThrow(/context does not match/);
    await expect(envelopeDecrypt(k, env)).rejects.toThrow(CryptoError);
  });

  it('fails on any altered byte of the envelope or character of the wrapped DEK', async () => {
    const k = kms();
    const env = await envelopeEncrypt(k, Buffer.from('value'), 'ctx');
    const attempts: Envelope[] = [];
    for (const field of ['iv', 'tag', 'ciphertext'] as const) {
      for (let i = 0; i < env[field].length; i++) attempts.push({ ...env, [field]: flipped(env[field], i) });
    }
    for (let i = 0; i < env.wrappedDek.length; i++) {
      const c = env.wrappedDek[i] === 'A' ? 'B' : 'A';
      attempts.push({ ...env, wrappedDek: env.wrappedDek.slice(0, i) + c + env.wrappedDek.slice(i + 1) });
    }
    for (const attempt of attempts) await expect(envelopeDecrypt(k, attempt, 'ctx')).rejects.toThrow(CryptoError);
    expect(attempts.length).toBeGreaterThan(100);
  });

  it('opens an envelope made by another instance holding the same key (nothing kept in memory)', async () => {
    const env = await envelopeEncrypt(kms(), Buffer.from('portable'));
    expect((await envelopeDecrypt(kms(), env)).toString()).toBe('portable');
  });
});
