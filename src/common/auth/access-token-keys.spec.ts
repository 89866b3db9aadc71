import { JwtService } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { loadConfig } from '../../config/app-config';
import { accessTokenKeys, secretKeyId } from './jwt.strategy';

describe('accessTokenKeys (HS256)', () => {
  const current = 'c'.repeat(40);
  const previous = 'p'.repeat(40);
  // Every key is given, so nothing is generated under DATA_DIR.
  const keyFor = accessTokenKeys(
    loadConfig({ JWT_SECRET: current, JWT_SECRET_PREVIOUS: previous, API_KEY_PEPPER: 'x'.repeat(40), KMS_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'), AUDIT_SIGNING_KEY: Buffer.alloc(32, 2).toString('base64') }),
  );
  const token = (secret: string, kid?: string) => new JwtService().sign({ sub: 'u' }, { secret, ...(kid ? { keyid: kid } : {}) });
  const exported = (secret: string) => createSecretKey(Buffer.from(secret)).export().toString('base64');
  const keyOf = (jwt: string) => keyFor(jwt).export().toString('base64');

  it('picks the key the token’s kid names, current or previous', () => {
    expect(keyOf(token(previous, secretKeyId(previous)))).toBe(exported(previous));
    expect(keyOf(token(current, secretKeyId(current)))).toBe(exported(current));
  });

  it('falls back to the current key for a token without kid, with an unknown kid, or that is not a JWT', () => {
    expect(keyOf(token(previous))).toBe(exported(current));
    expect(keyOf(token(previous, 'someone-else'))).toBe(exported(current));
    expect(keyOf('garbage')).toBe(exported(current));
  });

  it('key ids differ per secret and do not contain it', () => {
    expect(secretKeyId(current)).not.toBe(secretKeyId(previous));
    expect(secretKeyId(current)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
