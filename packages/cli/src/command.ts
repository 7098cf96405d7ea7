// command.ts: the shape every command module has (a zod schema for its options and a run function).
import type { z } from 'zod';

export interface Command<S extends z.ZodType = z.ZodType> {
  name: string;
  summary: string;
  /** Usage lines shown by `mae-cuda <command> --help`. */
  usage: string;
  options: S;
  /** names of the positional arguments, in order (they are validated as options of these names) */
  positionals?: readonly string[];
  /** the option that takes the positional arguments after those (a list: `IMAGES...`) */
  rest?: string;
  /** Returns the process exit code. */
  run(options: z.infer<S>): Promise<number> | number;
}

export function defineCommand<S extends z.ZodType>(command: Command<S>): Command<S> {
  return command;
}
