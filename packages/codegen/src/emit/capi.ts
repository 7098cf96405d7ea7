// capi.ts: emits the C ABI of every op (mae_cuda_ops.h, ops_capi.cpp): each `mae_<op>` checks
// ranks, sizes, dtypes and devices with errors that name the op, argument and shapes, then
// dispatches to the CPU kernel or the CUDA launcher of the matching variant.
import { CPU_STORAGE, DTYPE_ENUM } from '../ir/dtype.js';
import { type OpDef, resolveDType, type Variant, variantSuffix } from '../ir/op.js';
import { GENERATED_BY, kernelName } from './signature.js';

const tensors = (op: OpDef) => [...op.outputs, ...op.inputs];

export function capiDecl(op: OpDef): string {
  const args = [
    ...op.outputs.map((t) => `mae_tensor* ${t.name}`),
    ...op.inputs.map((t) => `const mae_tensor* ${t.name}`),
    ...op.params.map((p) => `double ${p.name}`),
    'mae_stream* stream',
  ];
  return `MAE_API mae_status mae_${op.name}(${args.join(', ')})`;
}

export function emitOpsHeader(ops: readonly OpDef[]): string {
  const out = [
    `/* ${GENERATED_BY('C ABI header')} */`,
    '/* Every op: outputs, inputs, scalar params, then the stream (NULL: the device default / run now on the CPU). */',
    '#ifndef MAE_CUDA_OPS_H',
    '#define MAE_CUDA_OPS_H',
    '#ifdef __cplusplus',
    'extern "C" {',
    '#endif',
  ];
  for (const op of ops) {
    out.push(`/* ${op.name}: ${op.doc}`);
    for (const t of tensors(op))
      out.push(` *   ${t.name} [${t.dims.join(', ')}] ${t.dtype.replace('$', '')}`);
    out.push(` *   dtypes: ${op.variants.map((v) => variantSuffix(v)).join(', ')} */`);
    out.push(`${capiDecl(op)};`);
  }
  out.push('#ifdef __cplusplus', '}', '#endif', '#endif', '');
  return out.join('\n');
}

const PRELUDE = `#include <cstdio>
#include <cstring>
#include <string>
#include "internal.h"
#include "kernels.h"

namespace {
struct SizeSlot {
  const char* sym;
  int64_t value = -1;
  const char* from = nullptr;
};
// Binds size symbol s to dimension dim of t, or fails naming both sources when they disagree.
mae_status bind(const char* op, SizeSlot& s, const mae_tensor* t, const char* tname, int dim, int slot) {
  const int64_t v = mae_tensor_shape(t)[dim];
  if (s.value < 0) {
    s.value = v;
    s.from = tname;
    return MAE_OK;
  }
  if (s.value != v)
    return mae_fail("%s: size %s is %lld from %s but %lld from %s %s", op, s.sym, (long long)s.value, s.from,
                    (long long)v, tname, mae_shape_str(t, slot));
  return MAE_OK;
}
mae_status rank(const char* op, const mae_tensor* t, const char* tname, int want, const char* dims) {
  if (!t) return mae_fail("%s: %s is NULL", op, tname);
  if (mae_tensor_ndim(t) != want)
    return mae_fail("%s: %s must have rank %d %s, got shape %s", op, tname, want, dims, mae_shape_str(t, 0));
  return MAE_OK;
}
// Refuses an output that overlaps another tensor of the call, unless the op runs in place on that
// pair and the two are exactly one buffer (OpDef.inPlace): kernels may assume outputs alias nothing.
mae_status overlap(const char* op, const mae_tensor* out, const char* oname, const mae_tensor* t, const char* tname,
                   bool in_place) {
  const char* a = static_cast<const char*>(mae_tensor_data(out));
  const char* b = static_cast<const char*>(mae_tensor_data(t));
  const size_t na = mae_tensor_nbytes(out), nb = mae_tensor_nbytes(t);
  if (na == 0 || nb == 0 || a + na <= b || b + nb <= a) return MAE_OK;
  if (in_place && a == b && na == nb) return MAE_OK;
  return mae_fail("%s: output %s overlaps %s (%s)", op, oname, tname,
                  in_place ? "in place, they must be the very same buffer" : "the op does not run in place: give it a separate output");
}
bool same_device(mae_device a, mae_device b) { return a.type == b.type && a.index == b.index; }
const char* dev_str(mae_device d, int slot) {
  static thread_local char buf[4][32];
  if (d.type == MAE_DEVICE_CPU) return "cpu";
  std::snprintf(buf[slot], sizeof buf[slot], "cuda:%d", d.index);
  return buf[slot];
}
}  // namespace
`;

function variantCond(op: OpDef, v: Variant): string {
  return tensors(op)
    .map((t) => `mae_tensor_dtype(${t.name}) == ${DTYPE_ENUM[resolveDType(t.dtype, v)]}`)
    .join(' && ');
}

function call(op: OpDef, v: Variant, backend: 'cpu' | 'cuda'): string {
  const args = [
    ...op.outputs.map((t) => `(${CPU_STORAGE[resolveDType(t.dtype, v)]}*)mae_tensor_data(${t.name})`),
    ...op.inputs.map((t) => `(const ${CPU_STORAGE[resolveDType(t.dtype, v)]}*)mae_tensor_data(${t.name})`),
    ...op.params.map((p) => p.name),
    ...op.sizes.map((s) => `s_${s}.value`),
  ];
  if (backend === 'cuda') args.push('_dev.index', 'mae_launch_stream(stream, _dev.index)');
  const name = kernelName(op, backend, v);
  return backend === 'cpu' ? `MAE_CPU_CALL(${name})(${args.join(', ')})` : `${name}(${args.join(', ')})`;
}

export function emitCapi(ops: readonly OpDef[]): string {
  const out = [`// ${GENERATED_BY('C ABI dispatch')}`, PRELUDE];
  for (const op of ops) {
    const ts = tensors(op);
    const O = JSON.stringify(op.name);
    out.push(`extern "C" ${capiDecl(op).replace('MAE_API ', '')} {`);
    out.push(`  const char* const OP = ${O};`);
    for (const t of ts)
      out.push(
        `  if (rank(OP, ${t.name}, "${t.name}", ${t.dims.length}, "[${t.dims.join(', ')}]")) return MAE_ERROR;`,
      );
    out.push(`  const mae_device _dev = mae_tensor_device(${ts[0]!.name});`);
    for (const t of ts.slice(1))
      out.push(
        `  if (!same_device(mae_tensor_device(${t.name}), _dev)) return mae_fail("%s: ${t.name} is on %s but ${ts[0]!.name} is on %s", OP, dev_str(mae_tensor_device(${t.name}), 0), dev_str(_dev, 1));`,
      );
    out.push(
      '  if (stream && !same_device(mae_stream_device(stream), _dev)) return mae_fail("%s: the stream is on %s but the tensors are on %s", OP, dev_str(mae_stream_device(stream), 0), dev_str(_dev, 1));',
    );
    op.outputs.forEach((o, oi) => {
      for (const t of [...op.outputs.slice(oi + 1), ...op.inputs]) {
        const inPlace = op.inPlace.some(([a, b]) => a === o.name && b === t.name);
        out.push(
          `  if (overlap(OP, ${o.name}, "${o.name}", ${t.name}, "${t.name}", ${inPlace})) return MAE_ERROR;`,
        );
      }
    });
    for (const s of op.sizes) out.push(`  SizeSlot s_${s}{"${s}"};`);
    ts.forEach((t, ti) =>
      t.dims.forEach((d, di) => {
        if (typeof d === 'string')
          out.push(`  if (bind(OP, s_${d}, ${t.name}, "${t.name}", ${di}, ${ti % 8})) return MAE_ERROR;`);
        else
          out.push(
            `  if (mae_tensor_shape(${t.name})[${di}] != ${d}) return mae_fail("%s: ${t.name} dimension ${di} must be ${d}, got shape %s", OP, mae_shape_str(${t.name}, 0));`,
          );
      }),
    );
    for (const c of op.constraints) {
      if (c.min !== undefined)
        out.push(
          `  if (s_${c.size}.value < ${c.min}) return mae_fail("%s: size ${c.size} must be at least ${c.min}, got %lld", OP, (long long)s_${c.size}.value);`,
        );
      if (c.equals !== undefined)
        out.push(
          `  if (s_${c.size}.value != s_${c.equals}.value + ${c.plus ?? 0}) return mae_fail("%s: size ${c.size} must equal ${c.equals} + ${c.plus ?? 0}, got ${c.size} = %lld and ${c.equals} = %lld", OP, (long long)s_${c.size}.value, (long long)s_${c.equals}.value);`,
        );
      if (c.atMost !== undefined)
        out.push(
          `  if (s_${c.size}.value > s_${c.atMost}.value + ${c.plus ?? 0}) return mae_fail("%s: size ${c.size} must be at most ${c.atMost} + ${c.plus ?? 0}, got ${c.size} = %lld and ${c.atMost} = %lld", OP, (long long)s_${c.size}.value, (long long)s_${c.atMost}.value);`,
        );
      if (c.multipleOf !== undefined)
        out.push(
          `  if (s_${c.size}.value % ${c.multipleOf}) return mae_fail("%s: size ${c.size} must be a multiple of ${c.multipleOf}, got %lld", OP, (long long)s_${c.size}.value);`,
        );
    }
    for (const v of op.variants) {
      const f64 = Object.values(v).includes('f64');
      out.push(`  if (${variantCond(op, v)}) {`);
      out.push(`    if (_dev.type == MAE_DEVICE_CPU) { ${call(op, v, 'cpu')}; return MAE_OK; }`);
      if (f64)
        out.push('    return mae_fail("%s: f64 runs on the CPU only (it exists for gradient checks)", OP);');
      else {
        out.push('#ifdef MAE_WITH_CUDA');
        out.push(`    return ${call(op, v, 'cuda')};`);
        out.push('#else');
        out.push('    return mae_fail("%s: this build has no CUDA", OP);');
        out.push('#endif');
      }
      out.push('  }');
    }
    const got = ts.map((t) => `${t.name} %s`).join(', ');
    const gotArgs = ts.map((t) => `mae_dtype_name(mae_tensor_dtype(${t.name}))`).join(', ');
    const supported = op.variants
      .map((v) => `(${ts.map((t) => resolveDType(t.dtype, v)).join(', ')})`)
      .join(', ');
    out.push(
      `  return mae_fail("%s: no kernel for dtypes (${got}); supported (${ts.map((t) => t.name).join(', ')}): ${supported}", OP, ${gotArgs});`,
    );
    out.push('}', '');
  }
  return out.join('\n');
}
