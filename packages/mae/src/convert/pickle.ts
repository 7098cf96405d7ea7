// pickle.ts: a restricted unpickler. It runs the pickle opcodes that plain data needs (protocols 2
// to 5: dicts, lists, tuples, strings, bytes, numbers, memo, frames) and never executes anything:
// a GLOBAL is looked up in the caller's allowlist and anything not in it is refused, naming it;
// REDUCE calls only an allowlisted handler (a TypeScript function); BUILD is accepted only on a
// dict made by such a handler (an OrderedDict's attributes, e.g. a state_dict's _metadata, are
// dropped). Opcodes of object construction (INST, OBJ, NEWOBJ, EXT*) are refused.

export class PickleError extends Error {}

/** What an allowlisted global is: a callable handler (REDUCE) or a plain marker value. */
export type PyGlobal =
  | { kind: 'callable'; name: string; call(args: unknown[]): unknown }
  | { kind: 'marker'; name: string };

export interface UnpickleOptions {
  /** the accepted globals by "module.name" */
  globals: ReadonlyMap<string, PyGlobal>;
  /** what the allowlist is, for the refusal message */
  allowed: string;
  /** resolves a persistent id (BINPERSID) */
  persistentLoad?: (pid: unknown) => unknown;
  /** names the pickle in errors */
  source: string;
}

const MARK = Symbol('mark');

/** Reads bytes in order; running past the end is a clear error. */
class Cursor {
  at = 0;
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    private readonly fail: (msg: string) => never,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  take(n: number): Uint8Array {
    if (n < 0 || this.at + n > this.bytes.length) this.fail(`truncated (needs ${n} bytes at ${this.at})`);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  u8 = () => this.take(1)[0]!;
  u16 = () => this.view.getUint16(this.skip(2), true);
  u32 = () => this.view.getUint32(this.skip(4), true);
  i32 = () => this.view.getInt32(this.skip(4), true);
  u64 = () => Number(this.view.getBigUint64(this.skip(8), true));
  f64be = () => this.view.getFloat64(this.skip(8), false);
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.at);
    if (end < 0) this.fail(`truncated (no end of line after byte ${this.at})`);
    return new TextDecoder().decode(this.take(end - this.at + 1).subarray(0, -1));
  }
  private skip(n: number): number {
    this.take(n);
    return this.at - n;
  }
}

/** A little-endian two's-complement integer (LONG1/LONG4), as a number when it is safe, else a bigint. */
function longOf(b: Uint8Array): number | bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b.length && b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

const utf8 = (b: Uint8Array) => new TextDecoder('utf-8', { fatal: true }).decode(b);
const latin1 = (b: Uint8Array) => new TextDecoder('latin1').decode(b);

/** Unpickles `bytes` under the options' allowlist; throws a PickleError for anything else. */
export function unpickle(bytes: Uint8Array, o: UnpickleOptions): unknown {
  const fail = (msg: string): never => {
    throw new PickleError(`${o.source}: ${msg}`);
  };
  const c = new Cursor(bytes, fail);
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  const built = new WeakSet<object>(); // dicts a handler made (BUILD may target them)
  const pop = () => (stack.length ? stack.pop() : fail('stack underflow (corrupt pickle)'));
  const top = () => (stack.length ? stack[stack.length - 1] : fail('stack underflow (corrupt pickle)'));
  const popMark = (): unknown[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) fail('no MARK on the stack (corrupt pickle)');
    const items = stack.splice(at);
    return items.slice(1);
  };
  const global = (module: string, name: string): PyGlobal => {
    const g = o.globals.get(`${module}.${name}`);
    return g ?? fail(`refusing to load global ${module}.${name}: only ${o.allowed} are accepted`);
  };
  const setItems = (d: unknown, kv: unknown[]) => {
    if (!(d instanceof Map)) fail('SETITEM(S) on something that is not a dict');
    for (let i = 0; i + 1 < kv.length; i += 2) (d as Map<unknown, unknown>).set(kv[i], kv[i + 1]);
  };
  const append = (l: unknown, items: unknown[]) => {
    if (!Array.isArray(l)) fail('APPEND(S) on something that is not a list');
    (l as unknown[]).push(...items);
  };
  for (;;) {
    const at = c.at;
    const op = c.u8();
    switch (op) {
      case 0x80: // PROTO
        if (c.u8() > 5) fail('pickle protocol above 5');
        break;
      case 0x95: // FRAME
        c.u64();
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
      case 0x89: // NEWFALSE
        stack.push(op === 0x88);
        break;
      case 0x4a: // BININT
        stack.push(c.i32());
        break;
      case 0x4b: // BININT1
        stack.push(c.u8());
        break;
      case 0x4d: // BININT2
        stack.push(c.u16());
        break;
      case 0x8a: // LONG1
        stack.push(longOf(c.take(c.u8())));
        break;
      case 0x8b: // LONG4
        stack.push(longOf(c.take(c.i32())));
        break;
      case 0x47: // BINFLOAT
        stack.push(c.f64be());
        break;
      case 0x58: // BINUNICODE
      case 0x8c: // SHORT_BINUNICODE
      case 0x8d: // BINUNICODE8
        stack.push(utf8(c.take(op === 0x58 ? c.u32() : op === 0x8c ? c.u8() : c.u64())));
        break;
      case 0x54: // BINSTRING
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1(c.take(op === 0x54 ? c.i32() : c.u8())));
        break;
      case 0x42: // BINBYTES
      case 0x43: // SHORT_BINBYTES
      case 0x8e: // BINBYTES8
        stack.push(c.take(op === 0x42 ? c.u32() : op === 0x43 ? c.u8() : c.u64()).slice());
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: // TUPLE3
        stack.push(Array.from({ length: op - 0x84 }, pop).reverse());
        break;
      case 0x71: // BINPUT
      case 0x72: // LONG_BINPUT
        memo.set(op === 0x71 ? c.u8() : c.u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const k = op === 0x68 ? c.u8() : c.u32();
        if (!memo.has(k)) fail(`memo ${k} is not set (corrupt pickle)`);
        stack.push(memo.get(k));
        break;
      }
      case 0x63: // GLOBAL
        stack.push(global(c.line(), c.line()));
        break;
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const f = pop() as PyGlobal | undefined;
        if (f?.kind !== 'callable' || !Array.isArray(args))
          return fail(`REDUCE at byte ${at} calls something that is not an accepted callable`);
        const v = f.call(args);
        if (v instanceof Map) built.add(v);
        stack.push(v);
        break;
      }
      case 0x51: // BINPERSID
        if (!o.persistentLoad) fail('persistent ids are not accepted here');
        stack.push(o.persistentLoad!(pop()));
        break;
      case 0x62: {
        // BUILD: only attributes of a dict a handler made (dropped)
        const state = pop();
        const target = top();
        if (!(target instanceof Map) || !built.has(target) || !(state instanceof Map || state === null))
          fail(`BUILD at byte ${at} sets the state of an object that is not an accepted dict`);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`);
    }
  }
}
