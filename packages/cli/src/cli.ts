#!/usr/bin/env node
import { processIO } from './io.js';
import { runCli } from './run.js';

// Ctrl-C (or SIGTERM) stops `listen` and interrupts `trigger` cleanly; a second one exits at once.
const controller = new AbortController();
const stop = () => {
  if (controller.signal.aborted) process.exit(130);
  controller.abort();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

process.exitCode = await runCli(process.argv.slice(2), processIO(controller.signal));
process.off('SIGINT', stop);
process.off('SIGTERM', stop);
// A config may leave handles open (a Redis connection its queue made, an SMTP pool): once the
// command is done, give them a moment to close, then exit rather than hang.
setTimeout(() => process.exit(), 3000).unref();
