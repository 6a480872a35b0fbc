// What kind of source a camera URL names, checked before anything reaches
// ffmpeg: ffmpeg treats its input string as a protocol URL, so a string that
// starts with "-", holds a newline, or names a protocol that reads local
// files or other sources (concat:, subfile:, data:, pipe:) must never pass.
import path from 'node:path';
import { LookoutError } from '../util/errors.js';

export type SourceKind = 'rtsp' | 'http' | 'file';

export class SourceUrlError extends LookoutError {
  readonly code = 'CAMERA_URL_INVALID';
}

export const MAX_URL_LENGTH = 2048;

export interface ClassifiedSource {
  kind: SourceKind;
  /** What ffmpeg gets: the URL for network sources, an absolute path for files. */
  input: string;
}

/**
 * Classifies a camera URL: rtsp:// or rtsps:// cameras, http(s):// streams
 * (MJPEG, HLS, progressive MP4), and files (a path, or file://). Files must
 * lie under one of `fileRoots` when roots are given.
 */
export function classifySource(url: string, fileRoots: readonly string[] = []): ClassifiedSource {
  if (typeof url !== 'string' || url.length === 0) throw new SourceUrlError('url is empty');
  if (url.length > MAX_URL_LENGTH) throw new SourceUrlError(`url is ${url.length} characters long; at most ${MAX_URL_LENGTH} are accepted`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(url)) throw new SourceUrlError('url contains a control character (newline, tab, …)');
  if (url.startsWith('-')) throw new SourceUrlError('url starts with "-", which ffmpeg would read as an option');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'rtsp' || scheme === 'rtsps' || scheme === 'http' || scheme === 'https') {
    // scheme://host…, nothing looser: ffmpeg would make its own guess at anything else.
    if (!/^[a-z]+:\/\/[^/?#]/i.test(url) || !parseUrl(url).host) throw new SourceUrlError(`url ${JSON.stringify(url.slice(0, 80))} has no host: expected ${scheme}://host[:port]/path`);
    return { kind: scheme.startsWith('rtsp') ? 'rtsp' : 'http', input: url };
  }
  let file: string;
  if (scheme === 'file') {
    file = decodeURIComponent(parseUrl(url).pathname);
  } else if (scheme && scheme.length > 1) {
    // One letter would be a Windows drive; anything longer is a protocol ffmpeg would obey.
    throw new SourceUrlError(`protocol "${scheme}:" is not allowed; use rtsp://, rtsps://, http://, https://, file:// or a file path`);
  } else {
    file = url;
  }
  const absolute = path.resolve(file);
  if (fileRoots.length > 0 && !fileRoots.some((root) => isInside(absolute, path.resolve(root)))) {
    throw new SourceUrlError(`file ${absolute} is outside the allowed folders (${fileRoots.join(', ')})`);
  }
  // ffmpeg's "file:" protocol prefix keeps a path with a colon from being read as a protocol.
  return { kind: 'file', input: `file:${absolute}` };
}

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new SourceUrlError(`url ${JSON.stringify(url.slice(0, 80))} is not a valid URL`);
  }
}

function isInside(file: string, root: string): boolean {
  const rel = path.relative(root, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Query parameters that carry a secret in many cameras' URLs
 * (…/videostream.cgi?user=admin&pwd=…, ?password=, ?token=, ?key=…).
 */
const SECRET_PARAM = /^(pass(word|wd)?|pwd|passwd|token|access_token|secret|key|api_?key|auth|sig|signature|credentials?)$/i;

/** Any user:password@ in the text (an ffmpeg message quoting a URL), and secret query parameters, with their values replaced. */
export function redactSecrets(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi, '$1:***@')
    .replace(/([?&;])([A-Za-z_]+)=([^&#\s]*)/g, (all, sep: string, name: string) => (SECRET_PARAM.test(name) ? `${sep}${name}=***` : all));
}

/** The URL with any password (in its user part or a secret query parameter) replaced, for logs and status. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const name of [...u.searchParams.keys()]) if (SECRET_PARAM.test(name)) u.searchParams.set(name, '***');
    return u.toString().replace(/=\*\*\*/g, '=***').replace(/%2A%2A%2A/g, '***');
  } catch {
    return redactSecrets(url);
  }
}
