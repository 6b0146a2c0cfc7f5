/**
 * Errors a user can cause. The CLI prints their message as one sentence and exits with
 * `exitCode`; anything else is a bug and gets a stack trace only under --debug.
 * Exit codes are decided here and nowhere else.
 */
export const EXIT = {
  ok: 0,
  runtime: 1,
  usage: 2,
  diverged: 3,
  internal: 70,
  interrupted: 130,
} as const;

/** A problem with the user's input or environment that the user can fix. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.runtime) {
    super(message);
    this.name = 'UserError';
  }
}

/** A bad flag, flag value, config key or config value (exit code 2). */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'UsageError';
  }
}
