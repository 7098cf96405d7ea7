// commands/completion.ts: `mae-cuda completion bash|zsh`: prints the shell completion script
// (completion.ts) of every command and its flags.
import { z } from 'zod';
import { optionFlags } from '../args.js';
import { defineCommand } from '../command.js';
import { completionScript, SHELLS } from '../completion.js';

export const completionCommand = defineCommand({
  name: 'completion',
  summary: 'print the shell completion script (bash or zsh): eval "$(mae-cuda completion bash)"',
  usage: 'mae-cuda completion bash|zsh',
  options: z.strictObject({
    shell: z.enum(SHELLS, { message: `give the shell: ${SHELLS.join(' or ')}` }),
  }),
  positionals: ['shell'],
  async run({ shell }) {
    const { COMMANDS } = await import('./index.js'); // (index.js lists this command too)
    const entries = COMMANDS.map((c) => ({
      name: c.name,
      summary: c.summary,
      flags: optionFlags(c.options, [...(c.positionals ?? []), ...(c.rest ? [c.rest] : [])]),
    }));
    process.stdout.write(completionScript(shell, entries));
    return 0;
  },
});
