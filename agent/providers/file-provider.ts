/**
 * The `file` provider: every regular file under a directory is a secret, its ref the path relative to the directory
 * with `/` separators. Dotfiles and dot-directories are skipped, and so is the `labels.json` sidecar at the root,
 * which maps refs to labels: `{ "<ref>": { "k": "v" } }`. Symlinks are not followed (they are not regular files,
 * and could point outside the directory). `list()` only stats files: it never opens one.
 */
import { constants } from 'node:fs';
import { access, lstat, open, readdir, readFile, realpath } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../atomic-write';
import { DiscoveredSecret, ProviderError, SecretProvider } from './provider';

export const LABELS_SIDECAR = 'labels.json';

export class FileProvider implements SecretProvider {
  readonly name = 'file';
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async list(): Promise<DiscoveredSecret[]> {
    const labels = await this.readLabels();
    const refs: string[] = [];
    await this.walk(this.root, refs);
    refs.sort();
    const out: DiscoveredSecret[] = [];
    for (const ref of refs) {
      const readable = await access(this.pathOf(ref), constants.R_OK).then(() => true, () => false);
      out.push({ ref, labels: labels[ref] ?? {}, status: readable ? 'active' : 'unreadable' });
    }
    return out;
  }

  /** The file's bytes. A symlink (at the ref or in a directory on the way out of `--dir`) is refused. */
  async read(ref: string): Promise<Buffer> {
    const path = await this.locate(ref);
    const info = await lstat(path).catch(() => null);
    if (!info?.isFile()) throw new ProviderError(`No secret file at ref "${ref}".`);
    // O_NOFOLLOW: a symlink swapped in after the lstat is refused by the kernel instead of followed.
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
      throw new ProviderError(`Cannot open the secret file at ref "${ref}" (${err.code ?? 'error'}).`);
    });
    try {
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  /** Replaces the file atomically (temporary file beside it, then rename), keeping its mode (0600 for a new one). */
  async write(ref: string, value: Buffer): Promise<void> {
    const path = await this.locate(ref);
    const existing = await lstat(path).catch(() => null);
    if (existing && !existing.isFile()) throw new ProviderError(`Ref "${ref}" is not a regular file.`);
    const mode = existing ? existing.mode & 0o777 : 0o600;
    await writeFileAtomic(path, value, mode);
  }

  /** A ref → its absolute path, refusing anything that would leave the directory or name a hidden file/the sidecar. */
  pathOf(ref: string): string {
    if (typeof ref !== 'string' || !ref || ref.includes('\0') || ref.includes('\\') || ref.startsWith('/')) throw new ProviderError(`Invalid ref "${ref}".`);
    const parts = ref.split('/');
    if (parts.some((p) => p === '' || p.startsWith('.'))) throw new ProviderError(`Invalid ref "${ref}".`);
    if (ref === LABELS_SIDECAR) throw new ProviderError(`Invalid ref "${ref}".`);
    const path = resolve(this.root, ...parts);
    if (!path.startsWith(this.root + sep)) throw new ProviderError(`Invalid ref "${ref}".`);
    return path;
  }

  /**
   * `pathOf`, plus the symlink checks `resolve` cannot do: the ref's directory, with every symlink on the way resolved,
   * must still be `--dir` or inside it (a symlinked sub-directory pointing elsewhere is refused), and the ref itself,
   * when it exists, must be a regular file (not a symlink). Reads nothing.
   */
  async locate(ref: string): Promise<string> {
    const path = this.pathOf(ref);
    const realRoot = await realpath(this.root);
    const realDir = await realpath(dirname(path)).catch(() => null);
    if (realDir === null) throw new ProviderError(`The directory of ref "${ref}" does not exist.`);
    if (realDir !== realRoot && !realDir.startsWith(realRoot + sep)) throw new ProviderError(`Ref "${ref}" leaves the secrets directory (through a symlink).`);
    const dirInfo = await lstat(realDir);
    if (!dirInfo.isDirectory()) throw new ProviderError(`The directory of ref "${ref}" does not exist.`);
    const located = join(realDir, basename(path));
    const info = await lstat(located).catch(() => null);
    if (info?.isSymbolicLink()) throw new ProviderError(`Ref "${ref}" is a symlink; symlinks are not followed.`);
    if (info && !info.isFile()) throw new ProviderError(`Ref "${ref}" is not a regular file.`);
    return located;
  }

  private async walk(dir: string, refs: string[]): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        await this.walk(full, refs);
      } else if (entry.isFile()) {
        const ref = relative(this.root, full).split(sep).join('/');
        if (ref !== LABELS_SIDECAR) refs.push(ref);
      }
    }
  }

  private async readLabels(): Promise<Record<string, Record<string, string>>> {
    let text: string;
    try {
      text = await readFile(join(this.root, LABELS_SIDECAR), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ProviderError(`${LABELS_SIDECAR} is not valid JSON.`);
    }
    if (!isPlainObject(parsed)) throw new ProviderError(`${LABELS_SIDECAR} must be an object of { "<ref>": { "key": "value" } }.`);
    const out: Record<string, Record<string, string>> = {};
    for (const [ref, labels] of Object.entries(parsed)) {
      if (!isPlainObject(labels) || !Object.values(labels).every((v) => typeof v === 'string')) {
        throw new ProviderError(`${LABELS_SIDECAR}: the labels of "${ref}" must be an object of strings.`);
      }
      out[ref] = labels as Record<string, string>;
    }
    return out;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
