// commands/index.ts: the registry of commands the router knows.
import type { Command } from '../command.js';
import { infoCommand } from './info.js';
import { parityCommand } from './parity.js';

export const COMMANDS: readonly Command[] = [
  infoCommand as unknown as Command,
  parityCommand as unknown as Command,
];
