// numbers.test.ts: the numeric option schemas: absurd values (1e12, 1e400, NaN, negative, 1.5,
// empty, a bare flag) are refused with a message saying what is wanted and what was given.
import assert from 'node:assert/strict';
import { z } from 'zod';
import { parseArgs, validateOptions } from '../src/args.js';
import { intListOption, intOption, numberOption } from '../src/numbers.js';

const schema = z.strictObject({
  steps: intOption({ min: 1, max: 1000 }).default(20),
  warmup: intOption({ min: 0, max: 1000 }).default(3),
  tol: numberOption({ positive: true }).default(0.02),
  batch: intListOption({ min: 1, max: 4096 }).default([64]),
});
const parse = (...argv: string[]) => validateOptions(schema, parseArgs(argv));
const refused = (argv: string[], message: string) =>
  assert.throws(
    () => parse(...argv),
    (e: Error) => e.message === message,
    `${argv.join(' ')}: expected "${message}"`,
  );

describe('numeric options', () => {
  it('parse valid values and fill defaults', () => {
    assert.deepEqual(parse('--steps', '5', '--tol', '1e-3', '--batch', '2,4'), {
      steps: 5,
      warmup: 3,
      tol: 1e-3,
      batch: [2, 4],
    });
    assert.deepEqual(parse('--warmup', '0'), { steps: 20, warmup: 0, tol: 0.02, batch: [64] });
  });

  it('refuse absurd numbers naming the flag, the range and the value', () => {
    refused(['--steps', '1e12'], '--steps: must be a whole number from 1 to 1000, got 1e12');
    refused(['--steps', '1e400'], '--steps: must be a whole number from 1 to 1000, got 1e400');
    refused(['--steps', '-3'], '--steps: must be a whole number from 1 to 1000, got -3');
    refused(['--steps', '1.5'], '--steps: must be a whole number from 1 to 1000, got 1.5');
    refused(['--steps', 'NaN'], "--steps: must be a number, got 'NaN'");
    refused(['--steps', ''], "--steps: must be a number, got ''");
    refused(['--tol', '0'], '--tol: must be a number above 0, got 0');
    refused(['--tol', 'Infinity'], "--tol: must be a number, got 'Infinity'");
    refused(['--batch', '0'], '--batch: must be a whole number from 1 to 4096, got 0');
    refused(['--batch', '64,1e9'], '--batch: each value must be a whole number from 1 to 4096, got 1e9');
    refused(['--batch', '64,'], "--batch: each value must be a number, got ''");
  });

  it('refuse a bare flag as needing a value (not as the number 1)', () => {
    refused(['--steps'], '--steps needs a value');
    refused(['--batch', '--tol', '1'], '--batch needs a value');
  });
});
