/**
 * The injected logger. Messages go to stderr so that stdout stays free for data; `quiet`
 * keeps warnings and errors only. Tests pass a memory logger to read what was said.
 * tolerateClosedOutput keeps a closed pipe or terminal from crashing the program.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function consoleLogger(options: { quiet: boolean }): Logger {
  return {
    info: (m) => {
      if (!options.quiet) process.stderr.write(`${m}\n`);
    },
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
    error: (m) => process.stderr.write(`error: ${m}\n`),
  };
}

export interface MemoryLogger extends Logger {
  lines: string[];
}

export function memoryLogger(): MemoryLogger {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => void lines.push(m),
    warn: (m) => void lines.push(`warning: ${m}`),
    error: (m) => void lines.push(`error: ${m}`),
  };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * A reader that stops reading (`bn-repro report DIR | head -1`) or a terminal that closes (SIGHUP
 * after an ssh session ends) makes writes to stdout or stderr fail (EPIPE, EIO), reported as an
 * 'error' event that would otherwise crash the program with a stack trace. The results are in
 * files, not in that output, so the command goes on; there is nobody left to tell.
 */
export function tolerateClosedOutput(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    if (!stream.listeners('error').includes(ignoreOutputError)) stream.on('error', ignoreOutputError);
  }
}

function ignoreOutputError(): void {
  // see tolerateClosedOutput
}
