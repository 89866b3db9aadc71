import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

export interface TestAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
}

export interface TestClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  grant_types?: string[];
  response_types?: string[];
}

/** The real node-oidc-provider in a child process (test/helpers/oidc-provider-server.mjs) on a free loopback port. */
export class TestOidcProvider {
  private constructor(private readonly child: ChildProcess, readonly issuer: string) {}

  static async start(config: { clients: TestClient[]; accounts: Record<string, TestAccount> }): Promise<TestOidcProvider> {
    const child = spawn(process.execPath, [path.join(__dirname, 'oidc-provider-server.mjs')], {
      env: { ...process.env, OIDC_TEST_CONFIG: JSON.stringify(config), NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr?.resume();
    const issuer = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('oidc-provider did not start within 20 s')), 20_000);
      child.once('exit', (code) => reject(new Error(`oidc-provider exited (${code})`)));
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { issuer: string }).issuer);
      });
    });
    return new TestOidcProvider(child, issuer);
  }

  async setAccounts(accounts: Record<string, TestAccount>): Promise<void> {
    await this.control('/__test/accounts', accounts);
  }

  /** The next ID token is re-signed with these claims replaced (or with a key outside the JWKS). */
  async tamperNextIdToken(change: Record<string, unknown>): Promise<void> {
    await this.control('/__test/tamper', change);
  }

  /**
   * A browser at the provider: follows the authorization URL, signs `accountId` in through the login form (cookies
   * kept), and returns the redirect back to the client (its query holds `code`, `state`, `iss`).
   */
  async signIn(authorizationUrl: string, accountId: string): Promise<URL> {
    const jar = new Map<string, string>();
    const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const keep = (res: Response) => {
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = pair.indexOf('=');
        jar.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
    };
    let url = new URL(authorizationUrl);
    let method = 'GET';
    let body: string | undefined;
    for (let hop = 0; hop < 10; hop++) {
      if (!url.href.startsWith(this.issuer)) return url; // back at the client
      const res = await fetch(url, { method, body, redirect: 'manual', headers: { cookie: cookieHeader(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) } });
      keep(res);
      const location = res.headers.get('location');
      if (res.status === 200 && /^\/interaction\//.test(url.pathname)) {
        await res.text();
        method = 'POST';
        body = new URLSearchParams({ login: accountId }).toString();
        continue;
      }
      if (!location) throw new Error(`provider answered ${res.status} at ${url.pathname}: ${await res.text()}`);
      await res.text();
      url = new URL(location, url);
      method = 'GET';
      body = undefined;
    }
    throw new Error('too many redirects at the provider');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }

  private async control(pathname: string, body: unknown): Promise<void> {
    const res = await fetch(new URL(pathname, this.issuer), { method: 'PUT', body: JSON.stringify(body) });
    if (res.status !== 200) throw new Error(`${pathname}: ${res.status}`);
  }
}
