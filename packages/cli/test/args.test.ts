// args.test.ts: the argv parser and zod validation messages.
import assert from 'node:assert/strict';
import { z } from 'zod';
import { parseArgs, UsageError, validateOptions } from '../src/args.js';

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
});
