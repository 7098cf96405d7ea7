// main.ts: the `mae-cuda <command> [options]` router: help, unknown commands (exit 2), option
// parsing/validation errors (exit 2), and running the command. The process exits with the
// command's code, also when the reader of its output went away early (closed_pipe.ts).
import { BOOLEAN_USAGE, booleanOptions, parseArgs, UsageError, validateOptions } from './args.js';
import { tolerateClosedPipe } from './closed_pipe.js';
import type { Command } from './command.js';
import { COMMANDS } from './commands/index.js';

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: mae-cuda <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `mae-cuda <command> --help` for the options of a command, `mae-cuda --version` for the version.',
    BOOLEAN_USAGE,
  ].join('\n');
}

function commandHelp(c: Command): string {
  const switches = booleanOptions(c.options).size > 0 ? `\n${BOOLEAN_USAGE}` : '';
  return `usage: ${c.usage}\n\n${c.summary}${switches}`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    console.error(
      `mae-cuda: unknown command '${name}' (commands: ${COMMANDS.map((c) => c.name).join(', ')})`,
    );
    console.error('Run `mae-cuda --help` for usage.');
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(commandHelp(command));
    return 0;
  }
  let options: unknown;
  try {
    const args = parseArgs(rest, booleanOptions(command.options));
    options = validateOptions(command.options, args, command.positionals, command.rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`mae-cuda ${name}: ${e.message}`);
    console.error(`usage: ${command.usage}`);
    return 2;
  }
  return command.run(options);
}

tolerateClosedPipe(process.stdout);
tolerateClosedPipe(process.stderr);
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  console.error(`mae-cuda: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
