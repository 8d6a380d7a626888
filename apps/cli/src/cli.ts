/**
 * The `sparq` command tree and `runCli`, which runs one invocation and returns
 * its exit code: 0 ok, 1 user/input error, 2 internal error, 130 interrupted.
 */
import { type ArgsDef, type CommandDef, defineCommand, renderUsage, runCommand } from 'citty';
import { compressArgs, compressCommand } from './commands/compress';
import { evalArgs, evalCommand } from './commands/eval';
import { fpgaArgs, fpgaCommand } from './commands/fpga';
import { exportArgs, exportCommand } from './commands/export';
import { generateArgs, generateCommand } from './commands/generate';
import { inspectArgs, inspectCommand } from './commands/inspect';
import { planArgs, planCommand } from './commands/plan';
import { quickstartArgs, quickstartCommand } from './commands/quickstart';
import { assertKnownFlags } from './options';
import { type Io, processIo, reportError } from './output';
import { version } from './version';

/** Every subcommand with its args table (for flag checks and help). */
function commands(io: Io): Record<string, { cmd: CommandDef<any>; args: ArgsDef }> {
  return {
    quickstart: { cmd: quickstartCommand(io), args: quickstartArgs },
    inspect: { cmd: inspectCommand(io), args: inspectArgs },
    eval: { cmd: evalCommand(io), args: evalArgs },
    generate: { cmd: generateCommand(io), args: generateArgs },
    fpga: { cmd: fpgaCommand(io), args: fpgaArgs },
    export: { cmd: exportCommand(io), args: exportArgs },
    compress: { cmd: compressCommand(io), args: compressArgs },
    plan: { cmd: planCommand(io), args: planArgs },
  };
}

/** Runs `sparq <argv…>` and resolves to the exit code; never throws. */
export async function runCli(argv: readonly string[], io: Io = processIo): Promise<number> {
  const verbose = argv.includes('--verbose');
  const table = commands(io);
  const main = defineCommand({
    meta: { name: 'sparq', version, description: 'prune, quantize, pack and run LLMs — N:M sparsity + low-bit weights' },
    subCommands: Object.fromEntries(Object.entries(table).map(([k, v]) => [k, v.cmd])),
  });
  try {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      io.stdout(`${await renderUsage(main)}\n`);
      return 0;
    }
    if (sub === '--version' || sub === '-v') {
      io.stdout(`${version}\n`);
      return 0;
    }
    const entry = table[sub];
    if (entry && (rest.includes('--help') || rest.includes('-h'))) {
      // Descend into nested subcommands (`sparq fpga simulate --help`) so each prints its own flags.
      let cmd: CommandDef<any> = entry.cmd;
      let parent: CommandDef<any> = main;
      for (const word of rest) {
        if (word.startsWith('-')) break;
        const subs = typeof cmd.subCommands === 'object' && !(cmd.subCommands instanceof Promise) ? cmd.subCommands : undefined;
        const next = subs?.[word];
        if (next === undefined || typeof next !== 'object' || next instanceof Promise) break;
        parent = cmd;
        cmd = next;
      }
      io.stdout(`${await renderUsage(cmd, parent)}\n`);
      return 0;
    }
    if (entry) assertKnownFlags(sub, entry.args, rest);
    await runCommand(main, { rawArgs: [...argv] });
    return 0;
  } catch (e) {
    return reportError(io, e, verbose);
  }
}
