import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Problem } from './cross-field.js';

/**
 * Reads the files that bodies name, `{$file: ./x.bin}` (a binary body, or a multipart file
 * part with optional `filename` and `contentType`), relative to the scenario's folder, and
 * puts their bytes in place as `{$base64: …}` (the file name kept as `filename`), so a loaded
 * scenario is plain data and its plans need no files.
 *
 * Must not: read anything but the files named, or a file larger than MAX_BODY_FILE_BYTES.
 */

export const MAX_BODY_FILE_BYTES = 16 * 1024 * 1024;

type Path = (string | number)[];

/** `value` with every `{$file}` replaced, or the problems (each with its path) found. */
export async function resolveBodyFiles(
  value: unknown,
  folder: string,
): Promise<{ readonly value: unknown; readonly problems: readonly Problem[] }> {
  const problems: Problem[] = [];
  const visit = async (item: unknown, path: Path): Promise<unknown> => {
    if (Array.isArray(item)) {
      const out: unknown[] = [];
      for (const [index, inner] of item.entries()) out.push(await visit(inner, [...path, index]));
      return out;
    }
    if (item === null || typeof item !== 'object') return item;
    const record = item as Record<string, unknown>;
    if (Object.hasOwn(record, '$file')) return readBodyFile(record, path, folder, problems);
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(record))
      out[key] = await visit(inner, [...path, key]);
    return out;
  };
  const resolved = await visit(value, []);
  return { value: resolved, problems };
}

async function readBodyFile(
  record: Record<string, unknown>,
  path: Path,
  folder: string,
  problems: Problem[],
): Promise<unknown> {
  const { $file: name, ...rest } = record;
  const at = [...path, '$file'];
  if (typeof name !== 'string' || name === '') {
    problems.push({ path: at, message: '$file needs a file path, e.g. ./body.bin' });
    return record;
  }
  const unknownKeys = Object.keys(rest).filter(
    (key) => key !== 'filename' && key !== 'contentType',
  );
  if (unknownKeys.length > 0) {
    problems.push({
      path,
      message: `a {$file} body part may have filename and contentType beside it, not ${unknownKeys.join(', ')}`,
    });
    return record;
  }
  const file = resolve(folder, name);
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error('not a regular file');
    if (info.size > MAX_BODY_FILE_BYTES) {
      problems.push({
        path: at,
        message: `${name} has ${info.size} bytes; a body file may have at most ${MAX_BODY_FILE_BYTES}`,
      });
      return record;
    }
    const bytes = await readFile(file);
    return { $base64: bytes.toString('base64'), filename: basename(name), ...rest };
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    problems.push({ path: at, message: `cannot read body file ${name} (at ${file}): ${reason}` });
    return record;
  }
}
