// Plain line logging to stderr, kept behind one small interface so the
// structured logger of a later milestone can replace it in one place.
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

function line(level: string, message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);
}

export const stderrLogger: Logger = {
  info: (m) => line('info ', m),
  warn: (m) => line('warn ', m),
  error: (m) => line('error', m),
};

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
