// sampling_cases.ts: the mask sampling cases run on each backend by sampling_device.test.ts.
import { lenKeepFor } from '../../src/config/model.js';
import type { ScoreRequest } from '../../src/masking/sampling.js';

export const DEVICE_CASES: (ScoreRequest & { lenKeep: number })[] = [
  ['block', 7, 0.75],
  ['block', 14, 0.5],
  ['block', 14, 0.9],
  ['grid', 7, 0.75],
  ['grid', 14, 0.75],
  ['random', 14, 0.75],
].map(([sampling, side, maskRatio]) => ({
  sampling: sampling as ScoreRequest['sampling'],
  seed: 21,
  step: 5,
  N: 4,
  side: side as number,
  maskRatio: maskRatio as number,
  rowOffset: 8,
  lenKeep: lenKeepFor((side as number) ** 2, maskRatio as number),
}));
