/** Structured logs (pino, JSON lines on stdout). Doors make per-connection children. */
import { pino, type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function makeLogger(level: string, name = 'stoa'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}
