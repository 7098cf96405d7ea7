// closed_pipe.ts: what happens when the reader of stdout (or stderr) goes away, as in
// `mae-cuda parity DIR | head -1`. Node ignores SIGPIPE, so the next write fails with EPIPE; left
// alone that error would crash the process with a stack trace. Instead the stream is let go: what
// is still written to it is dropped, the command runs to its end, and the process exits with the
// command's own code. So a closed pipe neither hides a failure (a failing parity still exits 1, for
// `set -o pipefail` and ${PIPESTATUS[0]}) nor invents one (a passing parity still exits 0); its
// --json files are still written.
import type { Writable } from 'node:stream';

/** Makes an EPIPE on `stream` quiet: later writes are dropped. Other errors are thrown. */
export function tolerateClosedPipe(stream: Writable): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    // a destroyed stream drops writes (their callbacks get ERR_STREAM_DESTROYED, no 'error' event)
    stream.destroy();
  });
}
