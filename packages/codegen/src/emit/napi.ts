// napi.ts: emits addon_ops.cpp, the Node-API binding of every op: `ops.<op>(...)` runs the op (on
// the CPU now, or enqueued on a CUDA stream) and `ops.<op>_async(...)` returns a Promise settled
// off the main thread. Argument errors become TypeErrors naming the op and argument.
import type { OpDef } from '../ir/op.js';
import { GENERATED_BY } from './signature.js';

function unpack(op: OpDef): string[] {
  const ts = [...op.outputs, ...op.inputs];
  const n = ts.length + op.params.length;
  const usage = `${op.name}(${[...ts.map((t) => t.name), ...op.params.map((p) => p.name), 'stream?'].join(', ')})`;
  const out = [
    '  Napi::Env env = info.Env();',
    `  if (info.Length() < ${n}) {`,
    `    Napi::TypeError::New(env, "${op.name}: expected ${usage}, got " + std::to_string(info.Length()) + " arguments").ThrowAsJavaScriptException();`,
    '    return env.Undefined();',
    '  }',
  ];
  ts.forEach((t, i) => {
    out.push(`  mae_tensor* ${t.name} = UnwrapTensor(info[${i}], "${op.name}", "${t.name}");`);
    out.push('  if (env.IsExceptionPending()) return env.Undefined();');
  });
  op.params.forEach((p, j) => {
    const i = ts.length + j;
    out.push(`  if (!info[${i}].IsNumber()) {`);
    out.push(
      `    Napi::TypeError::New(env, "${op.name}: ${p.name} must be a number").ThrowAsJavaScriptException();`,
    );
    out.push('    return env.Undefined();');
    out.push('  }');
    out.push(`  const double ${p.name} = info[${i}].As<Napi::Number>().DoubleValue();`);
  });
  out.push(`  mae_stream* stream = UnwrapStreamOrNull(info[${n}], "${op.name}");`);
  out.push('  if (env.IsExceptionPending()) return env.Undefined();');
  return out;
}

export function emitNapi(ops: readonly OpDef[]): string {
  const out = [
    `// ${GENERATED_BY('Node-API bindings')}`,
    '#include <string>',
    '#include "addon.h"',
    '',
    'namespace mae_addon {',
  ];
  for (const op of ops) {
    const ts = [...op.outputs, ...op.inputs];
    const args = [...ts.map((t) => t.name), ...op.params.map((p) => p.name), 'stream'].join(', ');
    out.push(`static Napi::Value op_${op.name}(const Napi::CallbackInfo& info) {`, ...unpack(op));
    out.push(`  if (mae_${op.name}(${args}) != MAE_OK) ThrowLastError(env, "${op.name}");`);
    out.push('  return env.Undefined();', '}', '');
    out.push(`static Napi::Value op_${op.name}_async(const Napi::CallbackInfo& info) {`, ...unpack(op));
    out.push(
      `  return RunAsync(env, "${op.name}", [=]() { return mae_${op.name}(${args}); }, stream, {${ts.map((_, i) => `info[${i}]`).join(', ')}});`,
    );
    out.push('}', '');
  }
  out.push('void RegisterGeneratedOps(Napi::Env env, Napi::Object ops) {');
  for (const op of ops) {
    out.push(`  ops.Set("${op.name}", Napi::Function::New(env, op_${op.name}, "${op.name}"));`);
    out.push(
      `  ops.Set("${op.name}_async", Napi::Function::New(env, op_${op.name}_async, "${op.name}_async"));`,
    );
  }
  out.push('}', '}  // namespace mae_addon', '');
  return out.join('\n');
}
