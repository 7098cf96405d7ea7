// args.test.ts: the argv parser and zod validation messages.
import assert from 'node:assert/strict';
import { z } from 'zod';
import { booleanOptions, parseArgs, UsageError, validateOptions } from '../src/args.js';

describe('parseArgs', () => {
  it('turns --foo-bar 3 --flag into an object', () => {
    assert.deepEqual(parseArgs(['--foo-bar', '3', '--flag', 'pos', '--x=y']), {
      _: [],
      fooBar: '3',
      flag: 'pos',
      x: 'y',
    });
    assert.deepEqual(parseArgs(['pos', '--flag', '--n', '2']), { _: ['pos'], flag: true, n: '2' });
    assert.deepEqual(parseArgs(['--a', '--', '--b']), { _: ['--b'], a: true });
  });

  it('rejects repeated options', () => {
    assert.throws(() => parseArgs(['--n', '1', '--n', '2']), /--n was given twice/);
  });

  describe('boolean options', () => {
    const booleans = new Set(['all', 'json']);
    it('never take the next argument as their value (`--all DIR`)', () => {
      assert.deepEqual(parseArgs(['--all', 'fixtures/x'], booleans), { _: ['fixtures/x'], all: true });
      assert.deepEqual(parseArgs(['--json', '--all', 'd'], booleans), { _: ['d'], json: true, all: true });
    });
    it('are set by =true/=false or a following true/false', () => {
      assert.deepEqual(parseArgs(['--all=false', '--json', 'true', 'd'], booleans), {
        _: ['d'],
        all: false,
        json: true,
      });
      assert.deepEqual(parseArgs(['--all', 'false'], booleans), { _: [], all: false });
    });
    it('refuse other values and --no-flag, naming the form that works', () => {
      assert.throws(
        () => parseArgs(['--all=yes'], booleans),
        (e: Error) =>
          e instanceof UsageError &&
          /--all is a switch: give --all or --all=false, not 'yes'/.test(e.message),
      );
      assert.throws(
        () => parseArgs(['--no-json'], booleans),
        /unknown option --no-json; to turn --json off give --json=false/,
      );
    });
  });
});

describe('booleanOptions', () => {
  it('finds z.boolean() options (under default and optional), not string | boolean ones', () => {
    const schema = z.strictObject({
      all: z.boolean().default(false),
      quiet: z.boolean().optional(),
      cudaGraph: z.union([z.string(), z.boolean()]).optional(),
      dir: z.string(),
    });
    assert.deepEqual([...booleanOptions(schema)].sort(), ['all', 'quiet']);
  });
  it('leaves string | boolean options taking the next argument (pretrain decides itself)', () => {
    const schema = z.strictObject({ normPixLoss: z.union([z.string(), z.boolean()]).optional() });
    assert.deepEqual(parseArgs(['--norm-pix-loss', 'false'], booleanOptions(schema)), {
      _: [],
      normPixLoss: 'false',
    });
  });
});

describe('validateOptions', () => {
  const schema = z.strictObject({
    batchSize: z.coerce.number().int().positive(),
    json: z.boolean().default(false),
  });

  it('returns typed options', () => {
    assert.deepEqual(validateOptions(schema, parseArgs(['--batch-size', '8'])), {
      batchSize: 8,
      json: false,
    });
  });

  it('names the option in messages', () => {
    assert.throws(
      () => validateOptions(schema, parseArgs(['--batch-size', '-1'])),
      (e: Error) => {
        return e instanceof UsageError && /--batch-size: /.test(e.message);
      },
    );
    assert.throws(
      () => validateOptions(schema, parseArgs(['--batch-size', '1', '--nope'])),
      /unknown option --nope/,
    );
    assert.throws(
      () => validateOptions(schema, parseArgs(['--batch-size', '1', 'extra'])),
      /unexpected argument 'extra'/,
    );
  });

  it('says a value-taking option given bare needs a value', () => {
    // z.coerce.number() would have made 1 of the bare flag's true
    const message = (m: string) => (e: Error) => e instanceof UsageError && e.message === m;
    assert.throws(
      () => validateOptions(schema, parseArgs(['--batch-size'])),
      message('--batch-size needs a value'),
    );
    const named = z.strictObject({ model: z.string().default('m') });
    assert.throws(() => validateOptions(named, parseArgs(['--model'])), message('--model needs a value'));
  });
});
