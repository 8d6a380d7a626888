#!/usr/bin/env node
/** Entry point of the `sparq` binary. */
import { runCli } from './cli';

let interrupted = false;
process.on('SIGINT', () => {
  // Writers clean their temp files in finally blocks; exit with the conventional code.
  if (interrupted) process.exit(130);
  interrupted = true;
  process.stderr.write('\ninterrupted\n');
  process.exit(130);
});

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
