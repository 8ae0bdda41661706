/** Loggers named per module, one line per message on stderr, so stdout stays for command output. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  child(name: string): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(name: string, level: LogLevel = (process.env.WALAUDIT_LOG_LEVEL as LogLevel | undefined) ?? 'info'): Logger {
  const threshold = ORDER[level] ?? ORDER.info;
  const write = (at: LogLevel, message: string) => {
    if (ORDER[at] < threshold) return;
    process.stderr.write(`${new Date().toISOString()} ${at.toUpperCase().padEnd(5)} [${name}] ${message}\n`);
  };
  return {
    debug: (message) => write('debug', message),
    info: (message) => write('info', message),
    warn: (message) => write('warn', message),
    error: (message) => write('error', message),
    child: (child) => createLogger(`${name}:${child}`, level),
  };
}
