// commands/index.ts: the registry of commands the router knows.
import type { Command } from '../command.js';
import { benchCommand } from './bench.js';
import { benchDataCommand } from './bench_data.js';
import { benchGemmCommand } from './bench_gemm.js';
import { checkStepCommand } from './check_step.js';
import { completionCommand } from './completion.js';
import { convertCommand } from './convert.js';
import { dataCommand } from './data.js';
import { embedCommand } from './embed.js';
import { finetuneCommand } from './finetune.js';
import { infoCommand } from './info.js';
import { kernelReportCommand } from './kernel_report.js';
import { knnCommand } from './knn.js';
import { linprobeCommand } from './linprobe.js';
import { parityCommand } from './parity.js';
import { prepareCommand } from './prepare.js';
import { pretrainCommand } from './pretrain.js';
import { reconstructCommand } from './reconstruct.js';

export const COMMANDS: readonly Command[] = [
  benchCommand as unknown as Command,
  benchDataCommand as unknown as Command,
  benchGemmCommand as unknown as Command,
  checkStepCommand as unknown as Command,
  completionCommand as unknown as Command,
  convertCommand as unknown as Command,
  dataCommand as unknown as Command,
  embedCommand as unknown as Command,
  finetuneCommand as unknown as Command,
  infoCommand as unknown as Command,
  kernelReportCommand as unknown as Command,
  knnCommand as unknown as Command,
  linprobeCommand as unknown as Command,
  parityCommand as unknown as Command,
  prepareCommand as unknown as Command,
  pretrainCommand as unknown as Command,
  reconstructCommand as unknown as Command,
];
