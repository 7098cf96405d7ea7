// shape_check.ts: an imported state_dict checked against the model its configuration describes:
// every tensor of the model (the encoder's alone for an encoder-only one) present with its shape;
// a classifier's head (head, fc_norm) may come along; anything else is refused by name.
import type { MaeConfig } from '../config/model.js';
import { stateSpec } from '../init/state_spec.js';
import { formatStateDictReport, matchStateDict, type Shaped, stateDictMatches } from '../io/state_dict.js';

/** Tensors of a classifier that may come with the encoder. */
const CLASSIFIER = /^(head|fc_norm)\.(weight|bias)$/;

/** Whether a name is the decoder's (what an encoder-only checkpoint lacks). */
export function isDecoderName(name: string): boolean {
  return /^(mask_token|decoder_)/.test(name);
}

/** Whether a name is used by pretraining alone: the decoder's, or the encoder's mask token (Table 1c). */
export function isPretrainingOnlyName(name: string): boolean {
  return isDecoderName(name) || name === 'encoder_mask_token';
}

/** Throws a report naming every missing, unexpected and misshaped tensor. */
export function checkImported(
  got: ReadonlyMap<string, Shaped>,
  mc: MaeConfig,
  encoderOnly: boolean,
  source: string,
): void {
  const expected = stateSpec(mc).filter((s) => !(encoderOnly && isPretrainingOnlyName(s.name)));
  const report = matchStateDict(Object.fromEntries(expected.map((s) => [s.name, s])), new Map(got));
  report.unexpected = report.unexpected.filter((n) => !CLASSIFIER.test(n));
  if (!stateDictMatches(report)) throw new Error(formatStateDictReport(report, source));
}
