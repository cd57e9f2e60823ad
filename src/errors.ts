import type { FieldError } from './domain/article-input.js';

/**
 * Errors that reach a client. Each carries its HTTP status and maps once, in app.ts, to an RFC 9457
 * application/problem+json body. Anything else is a bug: 500 with the request id, stack only in logs.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    /** Short name of the problem type; the `type` member is `/problems/<kind>`. */
    readonly kind: string,
    readonly title: string,
    detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = new.target.name;
  }
}

export class BadRequestError extends AppError {
  constructor(detail: string, readonly errors: FieldError[] = []) {
    super(400, 'bad-request', 'Bad request', detail);
  }
}

export class ValidationError extends AppError {
  constructor(readonly errors: FieldError[], detail = describeErrors(errors)) {
    super(422, 'validation-error', 'Validation failed', detail);
  }
}

export class UnauthorizedError extends AppError {
  constructor(detail = 'A valid bearer token is required.', description?: string) {
    const challenge = description ? `Bearer realm="syndicate", error="invalid_token", error_description="${description}"` : 'Bearer realm="syndicate"';
    super(401, 'unauthorized', 'Unauthorized', detail, { 'WWW-Authenticate': challenge });
  }
}

export class ForbiddenError extends AppError {
  constructor(detail: string) {
    super(403, 'forbidden', 'Forbidden', detail);
  }
}

export class NotFoundError extends AppError {
  constructor(detail: string) {
    super(404, 'not-found', 'Not found', detail);
  }
}

export class ConflictError extends AppError {
  constructor(detail: string) {
    super(409, 'conflict', 'Conflict', detail);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limit: number) {
    super(413, 'payload-too-large', 'Payload too large', `The request body exceeds the limit of ${limit} bytes.`);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(detail = 'The request body must be JSON (Content-Type: application/json).') {
    super(415, 'unsupported-media-type', 'Unsupported media type', detail);
  }
}

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
}

/** The RFC 9457 body for an error; unknown errors become a 500 that reveals nothing but the request id. */
export function toProblem(err: unknown, requestId: string | undefined, instance?: string): ProblemDetails {
  if (err instanceof AppError) {
    const problem: ProblemDetails = {
      type: `/problems/${err.kind}`,
      title: err.title,
      status: err.status,
      detail: err.message,
    };
    if (instance) problem.instance = instance;
    if (requestId) problem.requestId = requestId;
    if ((err instanceof ValidationError || err instanceof BadRequestError) && err.errors.length > 0) {
      problem.errors = err.errors;
    }
    return problem;
  }
  const problem: ProblemDetails = {
    type: '/problems/internal-error',
    title: 'Internal server error',
    status: 500,
    detail: `An unexpected error occurred. Quote request id ${requestId ?? 'unknown'} when reporting it.`,
  };
  if (instance) problem.instance = instance;
  if (requestId) problem.requestId = requestId;
  return problem;
}

function describeErrors(errors: FieldError[]): string {
  const shown = errors.slice(0, 5).map((e) => `${e.path || '(body)'}: ${e.message}`);
  const more = errors.length > 5 ? ` (and ${errors.length - 5} more)` : '';
  return `${shown.join('; ')}${more}`;
}

/** Short explanations served at /problems/<kind>, so every `type` URI resolves to something useful. */
export const PROBLEM_DESCRIPTIONS: Record<string, string> = {
  'bad-request': 'The request could not be read: malformed JSON or an invalid query parameter.',
  'validation-error': 'The request was well-formed but a field broke a rule; `errors` lists each path and reason.',
  unauthorized: 'No bearer token, or one that is unknown or revoked. Send Authorization: Bearer <token>.',
  forbidden: 'The token is valid but lacks the scope this route needs (ingest or admin).',
  'not-found': 'No such resource.',
  conflict: 'The request conflicts with the current state of the resource.',
  'payload-too-large': 'The request body is larger than BODY_LIMIT_BYTES.',
  'unsupported-media-type': 'The request body must be sent as application/json.',
  'internal-error': 'An unexpected error; the request id in the body identifies it in the logs.',
};
