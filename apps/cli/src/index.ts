/**
 * @sparq/cli — the `sparq` command-line tool. The library entry exposes
 * {@link runCli} so the CLI can be driven in-process (tests, other tools).
 * @packageDocumentation
 */
export { runCli } from './cli';
export type { Io } from './output';
