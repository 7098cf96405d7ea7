// pickle.test.ts: the restricted unpickler on hand-made pickles: plain data and an allowlisted
// call are read; a GLOBAL or STACK_GLOBAL naming anything else (os.system) is refused, naming it,
// before anything runs; object-building opcodes, BUILD on a plain dict, truncated and corrupt
// pickles give clear errors.
import assert from 'node:assert/strict';
import { type PyGlobal, unpickle } from '../../src/convert/pickle.js';

const enc = (s: string) => [...Buffer.from(s, 'latin1')];
const short = (s: string) => [0x8c, s.length, ...enc(s)]; // SHORT_BINUNICODE
const calls: unknown[][] = [];
const globals = new Map<string, PyGlobal>([
  [
    'collections.OrderedDict',
    {
      kind: 'callable',
      name: 'OrderedDict',
      call: (a) => {
        calls.push(a);
        return new Map();
      },
    },
  ],
]);
const read = (bytes: number[]) =>
  unpickle(Uint8Array.from(bytes), { globals, allowed: 'collections.OrderedDict', source: 'test.pkl' });

describe('restricted unpickler', () => {
  it('reads dicts, lists, tuples, strings, numbers and the memo', () => {
    // {'a': [1, -2, 300, 2.5, True, None], 'b': ('x', b'\x01')} with a memoised 'x' fetched again
    const v = read([
      0x80,
      2,
      0x7d,
      0x28,
      ...short('a'),
      0x5d,
      0x28,
      0x4b,
      1,
      0x4a,
      0xfe,
      0xff,
      0xff,
      0xff,
      0x4d,
      0x2c,
      0x01,
      0x47,
      0x40,
      0x04,
      0,
      0,
      0,
      0,
      0,
      0,
      0x88,
      0x4e,
      0x65,
      ...short('b'),
      ...short('x'),
      0x94,
      0x43,
      1,
      1,
      0x86,
      0x75,
      ...short('c'),
      0x68,
      0,
      0x73,
      0x2e,
    ]) as Map<string, unknown>;
    assert.deepEqual(v.get('a'), [1, -2, 300, 2.5, true, null]);
    assert.deepEqual(v.get('b'), ['x', Uint8Array.from([1])]);
    assert.equal(v.get('c'), 'x');
  });

  it('calls an allowlisted global through REDUCE, and BUILD on what it made drops the state', () => {
    const v = read([0x80, 2, ...enc('ccollections\nOrderedDict\n'), 0x29, 0x52, 0x7d, 0x62, 0x2e]);
    assert.ok(v instanceof Map);
    assert.deepEqual(calls.at(-1), []);
  });

  it('refuses a GLOBAL naming os.system (posix.system) before anything runs', () => {
    // the classic payload: posix.system('echo pwned')
    const payload = [0x80, 2, ...enc('cposix\nsystem\n'), ...short('echo pwned'), 0x85, 0x52, 0x2e];
    assert.throws(
      () => read(payload),
      /test\.pkl: refusing to load global posix\.system: only collections\.OrderedDict are accepted/,
    );
    const stack = [0x80, 4, ...short('os'), ...short('system'), 0x93, 0x2e];
    assert.throws(() => read(stack), /refusing to load global os\.system/);
  });

  it('refuses object-building opcodes, BUILD on a plain dict and REDUCE of a non-callable', () => {
    assert.throws(() => read([0x80, 2, 0x29, 0x29, 0x81, 0x2e]), /unsupported pickle opcode 0x81 at byte 4/);
    assert.throws(
      () => read([0x80, 2, 0x7d, 0x7d, 0x62, 0x2e]),
      /BUILD at byte 4 sets the state of an object/,
    );
    assert.throws(
      () => read([0x80, 2, 0x7d, 0x29, 0x52, 0x2e]),
      /REDUCE at byte 4 calls something that is not/,
    );
  });

  it('names truncated and corrupt pickles', () => {
    assert.throws(
      () => read([0x80, 2, 0x58, 10, 0, 0, 0, 0x61]),
      /test\.pkl: truncated \(needs 10 bytes at 7\)/,
    );
    assert.throws(() => read([0x80, 2, 0x7d]), /truncated/);
    assert.throws(() => read([0x80, 2, 0x30, 0x2e]), /stack underflow/);
    assert.throws(() => read([0x80, 2, 0x68, 3, 0x2e]), /memo 3 is not set/);
  });
});
