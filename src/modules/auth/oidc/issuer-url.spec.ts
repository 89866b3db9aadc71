import { emailDomain, issuerUrlProblem } from './issuer-url';

describe('issuerUrlProblem', () => {
  it.each([
    ['https://idp.example.com', false],
    ['https://idp.example.com/realms/acme', false],
    ['http://127.0.0.1:4000', true],
    ['http://localhost:4000/oidc', true],
  ])('accepts %s (insecure allowed: %s)', (url, insecure) => {
    expect(issuerUrlProblem(url, insecure)).toBeNull();
  });

  it.each([
    ['not a url', true, 'absolute URL'],
    ['ftp://idp.example.com', true, 'https://'],
    ['http://idp.example.com', true, 'loopback'],
    ['http://127.0.0.1:4000', false, 'OIDC_ALLOW_INSECURE_ISSUERS=true'],
    ['https://user:pw@idp.example.com', false, 'credentials'],
    ['https://idp.example.com/?a=1', false, 'query'],
    ['https://idp.example.com/#x', false, 'fragment'],
    ['http://10.0.0.1', true, 'loopback'],
  ])('refuses %s (insecure allowed: %s)', (url, insecure, problem) => {
    expect(issuerUrlProblem(url, insecure)).toContain(problem);
  });
});

describe('emailDomain', () => {
  it('lower-cases the part after the last @', () => {
    expect(emailDomain('Ann@Example.COM')).toBe('example.com');
    expect(emailDomain('"a@b"@corp.example')).toBe('corp.example');
  });
  it('is null without a domain', () => {
    expect(emailDomain('nobody')).toBeNull();
    expect(emailDomain('trailing@')).toBeNull();
    expect(emailDomain('@example.com')).toBeNull();
  });
});
