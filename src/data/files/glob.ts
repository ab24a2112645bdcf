/**
 * File name patterns for `Dataset.listFiles` and `makeCsvDataset`: `*` and
 * `?` within a path segment, `[abc]` / `[a-z]` / `[!a]` classes, and `**`
 * for any number of directories. Matching happens when called, on the file
 * system as it is then.
 */
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';

function hasMagic(s: string): boolean {
  return /[*?[]/.test(s);
}

function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = seg.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function listDir(dir: string): { name: string; isDir: boolean }[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).map((d) => ({ name: d.name, isDir: d.isDirectory() || (d.isSymbolicLink() && isDirSafe(join(dir, d.name))) }));
  } catch {
    return [];
  }
}

function isDirSafe(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The files matching `pattern`, sorted. A pattern without wildcards matches itself if it exists. */
export function glob(pattern: string): string[] {
  const abs = isAbsolute(pattern);
  const parts = pattern.split(/[\\/]+/).filter((p, i) => p !== '' || i === 0);
  // The literal prefix: directories before the first wildcard.
  let base = abs ? sep : '.';
  let i = abs ? 1 : 0;
  if (!abs && parts[0] === '') i = 1;
  const prefix: string[] = [];
  while (i < parts.length - 1 && !hasMagic(parts[i])) prefix.push(parts[i++]);
  base = prefix.length ? (abs ? join(sep, ...prefix) : join(...prefix)) : abs ? sep : '.';
  const rest = parts.slice(i);
  const out = new Set<string>();
  const walk = (dir: string, k: number) => {
    if (k === rest.length) return;
    const seg = rest[k];
    const last = k === rest.length - 1;
    if (seg === '**') {
      // Zero directories, or one more and stay on '**'.
      walk(dir, k + 1);
      for (const e of listDir(dir)) if (e.isDir && !e.name.startsWith('.')) walk(join(dir, e.name), k);
      return;
    }
    if (!hasMagic(seg)) {
      const p = join(dir, seg);
      if (last) {
        if (existsFile(p)) out.add(p);
      } else if (isDirSafe(p)) walk(p, k + 1);
      return;
    }
    const re = segmentRegex(seg);
    for (const e of listDir(dir)) {
      if (!re.test(e.name) || (e.name.startsWith('.') && !seg.startsWith('.'))) continue;
      const p = join(dir, e.name);
      if (last) {
        if (!e.isDir) out.add(p);
      } else if (e.isDir) walk(p, k + 1);
    }
  };
  walk(base, 0);
  return [...out].map((p) => (abs ? p : p.startsWith('./') ? p.slice(2) : p)).sort();
}

function existsFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function resolvePath(p: string): string {
  return resolve(p);
}
