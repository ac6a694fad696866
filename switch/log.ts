/**
 * Structured logs: one JSON object per line (level, time, msg, fields) for
 * machines; a short human line when stderr is a terminal. Callers pass fields,
 * never pre-formatted strings, so logs stay greppable.
 */
export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevelName, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level?: LogLevelName;
  write?: (line: string) => void;
  pretty?: boolean;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions = {}, bound: LogFields = {}): Logger {
  const minimum = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const pretty = options.pretty ?? Boolean(process.stderr.isTTY);
  const now = options.now ?? (() => new Date());

  const emit = (level: LogLevelName, msg: string, fields?: LogFields): void => {
    if (RANK[level] < minimum) return;
    const record = { level, time: now().toISOString(), msg, ...bound, ...fields };
    if (!pretty) return write(JSON.stringify(record, errorReplacer));
    const extra = Object.entries({ ...bound, ...fields })
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, errorReplacer)}`)
      .join(' ');
    write(`${record.time.slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? ' ' + extra : ''}`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }) };
  }
  return value;
}
