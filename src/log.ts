import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; credentials in URLs and authorization headers never reach them. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'syndicate' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['req.headers.authorization', 'headers.authorization', 'token', 'secret'], censor: '[redacted]' },
    },
    destination,
  );
}
