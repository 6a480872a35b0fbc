// Logging: structured JSON lines (pino) on stderr, one object per line with
// time, level and msg, for whatever collects a container's output; on a
// terminal the same lines are printed readably (pino-pretty). Components see
// only the small Logger interface.
//
//   LOOKOUT_LOG_LEVEL   debug, info (default), warn, error
//   LOOKOUT_LOG_FORMAT  json or pretty (default: pretty on a terminal, else json)
//
// Writes are synchronous: the last lines before an exit (a failed start-up,
// a signal) are never lost in a buffer. Camera URLs are redacted before they
// reach a message (ingest/source-url.ts); nothing here sees the access token.
import pino from 'pino';
import pretty from 'pino-pretty';

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  level?: string;
  format?: 'json' | 'pretty';
  /** Where lines go: a file descriptor (default 2, stderr). */
  fd?: number;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const fd = options.fd ?? 2;
  const format = options.format ?? (fd === 2 && process.stderr.isTTY ? 'pretty' : 'json');
  const stream = format === 'pretty'
    ? pretty({ destination: fd, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' })
    : pino.destination({ dest: fd, sync: true });
  const logger = pino({ level: options.level ?? 'info', base: { service: 'lookout' }, timestamp: pino.stdTimeFunctions.isoTime }, stream);
  return {
    info: (m, fields) => logger.info(fields ?? {}, m),
    warn: (m, fields) => logger.warn(fields ?? {}, m),
    error: (m, fields) => logger.error(fields ?? {}, m),
  };
}

function envFormat(value: string | undefined): 'json' | 'pretty' | undefined {
  return value === 'json' || value === 'pretty' ? value : undefined;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const envLevel = process.env.LOOKOUT_LOG_LEVEL;

/** The process's logger, as the environment sets it up. */
export const stderrLogger: Logger = createLogger({
  level: envLevel && LEVELS.includes(envLevel) ? envLevel : 'info',
  format: envFormat(process.env.LOOKOUT_LOG_FORMAT),
});
if (envLevel && !LEVELS.includes(envLevel)) {
  stderrLogger.warn(`LOOKOUT_LOG_LEVEL: ${JSON.stringify(envLevel)} is not a level (${LEVELS.join(', ')}); logging at info`);
}
if (process.env.LOOKOUT_LOG_FORMAT && !envFormat(process.env.LOOKOUT_LOG_FORMAT)) {
  stderrLogger.warn(`LOOKOUT_LOG_FORMAT: ${JSON.stringify(process.env.LOOKOUT_LOG_FORMAT)} is not json or pretty; using the default`);
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
