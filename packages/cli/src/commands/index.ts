// commands/index.ts: the registry of commands the router knows.
import type { Command } from '../command.js';
import { benchCommand } from './bench.js';
import { benchDataCommand } from './bench_data.js';
import { checkStepCommand } from './check_step.js';
import { completionCommand } from './completion.js';
import { dataCommand } from './data.js';
import { infoCommand } from './info.js';
import { kernelReportCommand } from './kernel_report.js';
import { parityCommand } from './parity.js';
import { prepareCommand } from './prepare.js';
import { pretrainCommand } from './pretrain.js';

export const COMMANDS: readonly Command[] = [
  benchCommand as unknown as Command,
  benchDataCommand as unknown as Command,
  checkStepCommand as unknown as Command,
  completionCommand as unknown as Command,
  dataCommand as unknown as Command,
  infoCommand as unknown as Command,
  kernelReportCommand as unknown as Command,
  parityCommand as unknown as Command,
  prepareCommand as unknown as Command,
  pretrainCommand as unknown as Command,
];
