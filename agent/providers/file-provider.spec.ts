import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileProvider } from './file-provider';
import { ProviderError } from './provider';

describe('FileProvider', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'file-provider-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists regular files recursively with / refs and sidecar labels; skips dotfiles, dot-dirs, the sidecar and symlinks', async () => {
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, 'top'), 'x');
    writeFileSync(join(dir, 'a', 'b', 'deep'), 'x');
    writeFileSync(join(dir, '.env'), 'x');
    writeFileSync(join(dir, '.git', 'HEAD'), 'x');
    writeFileSync(join(dir, 'a', 'labels.json'), '{}'); // only the root sidecar is special
    writeFileSync(join(dir, 'labels.json'), JSON.stringify({ 'a/b/deep': { team: 'x' }, ghost: { a: 'b' } }));
    symlinkSync('/etc/hostname', join(dir, 'link'));
    const found = await new FileProvider(dir).list();
    expect(found).toEqual([
      { ref: 'a/b/deep', labels: { team: 'x' }, status: 'active' },
      { ref: 'a/labels.json', labels: {}, status: 'active' },
      { ref: 'top', labels: {}, status: 'active' },
    ]);
  });

  it('reports an unreadable file as unreadable without reading it', async () => {
    if (process.getuid?.() === 0) return; // root reads everything
    writeFileSync(join(dir, 'locked'), 'x');
    chmodSync(join(dir, 'locked'), 0o000);
    expect(await new FileProvider(dir).list()).toEqual([{ ref: 'locked', labels: {}, status: 'unreadable' }]);
  });

  it('rejects a malformed sidecar', async () => {
    writeFileSync(join(dir, 'labels.json'), '{"a": {"k": 1}}');
    await expect(new FileProvider(dir).list()).rejects.toBeInstanceOf(ProviderError);
    writeFileSync(join(dir, 'labels.json'), 'nope');
    await expect(new FileProvider(dir).list()).rejects.toThrow('not valid JSON');
  });

  it('refuses refs that leave the directory or name hidden files or the sidecar', () => {
    const p = new FileProvider(dir);
    for (const ref of ['../x', 'a/../../x', '/etc/passwd', '.env', 'a/.git/x', 'labels.json', '', 'a//b', 'a\\b']) {
      expect(() => p.pathOf(ref)).toThrow(ProviderError);
    }
    expect(p.pathOf('a/b')).toBe(join(dir, 'a', 'b'));
  });

  it('reads a value, and writes one atomically keeping the mode (0600 for a new file)', async () => {
    const p = new FileProvider(dir);
    writeFileSync(join(dir, 'kept'), 'old', { mode: 0o640 });
    chmodSync(join(dir, 'kept'), 0o640);
    expect((await p.read('kept')).toString()).toBe('old');
    await p.write('kept', Buffer.from('new'));
    expect(readFileSync(join(dir, 'kept'), 'utf8')).toBe('new');
    expect(statSync(join(dir, 'kept')).mode & 0o777).toBe(0o640);
    await p.write('fresh', Buffer.from('v'));
    expect(statSync(join(dir, 'fresh')).mode & 0o777).toBe(0o600);
    await expect(p.read('missing')).rejects.toBeInstanceOf(ProviderError);
    await expect(p.write('no/such/dir', Buffer.from('v'))).rejects.toBeInstanceOf(ProviderError);
  });

  it('writes many files of one directory at once (the worker pool does), each intact, leaving no temporary file', async () => {
    const p = new FileProvider(dir);
    const refs = Array.from({ length: 40 }, (_, i) => `s${i}`);
    await Promise.all(refs.map((ref) => p.write(ref, Buffer.from(`value of ${ref}`))));
    for (const ref of refs) expect(readFileSync(join(dir, ref), 'utf8')).toBe(`value of ${ref}`);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
