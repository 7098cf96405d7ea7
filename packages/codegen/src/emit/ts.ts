// ts.ts: emits generated/ops.ts, the typed TypeScript API of every op. One overload per dtype
// variant makes a wrong arity or dtype a compile error; `checkOp` makes a wrong runtime shape a
// TypeError before any kernel runs.
import { type OpDef, resolveDType } from '../ir/op.js';
import { CPU_ISAS } from './files.js';
import { GENERATED_BY } from './signature.js';

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

export function emitTs(ops: readonly OpDef[]): string {
  const out = [
    `// ${GENERATED_BY('TypeScript API')}`,
    "import { binding } from '../src/binding.js';",
    "import { axisViews, checkOp, type OpSpec } from '../src/check.js';",
    "import { opTimer } from '../src/profile.js';",
    "import type { Stream } from '../src/stream.js';",
    "import type { Tensor } from '../src/tensor.js';",
    '',
    '/** Options every op takes: the stream to enqueue on (CUDA), none for the device default. */',
    'export interface OpOptions {',
    '  readonly stream?: Stream;',
    '}',
    '',
    '/** The builds of the CPU kernels (x86-64), from the baseline up; buildInfo().cpuIsa names the one in use. */',
    `export type CpuIsa = ${CPU_ISAS.map((i) => `'${i}'`).join(' | ')};`,
    '',
    'type NativeOp = (...args: unknown[]) => unknown;',
    'const native = binding.ops as Record<string, NativeOp>;',
    '',
  ];
  for (const op of ops) {
    const ts = [...op.outputs, ...op.inputs];
    const spec = {
      name: op.name,
      tensors: ts.map((t) => ({ name: t.name, dims: t.dims, dtype: t.dtype })),
      params: op.params.map((p) => p.name),
      variants: op.variants.map((v) => ts.map((t) => resolveDType(t.dtype, v))),
      constraints: op.constraints,
    };
    const specName = `${camel(op.name)}Spec`;
    out.push(`const ${specName}: OpSpec = ${JSON.stringify(spec)};`, '');
    const axis = op.axisView ? ['axis: number'] : [];
    const params = op.params.map((p) => `${p.name}: number`);
    const doc = [
      `/** ${op.doc}`,
      ...ts.map(
        (t) =>
          ` * @param ${t.name} ${t.role === 'out' ? 'output' : 'input'} [${t.dims.join(', ')}]${t.doc ? ` ${t.doc}` : ''}`,
      ),
      ...(op.axisView
        ? [
            " * @param axis the axis of x to reduce (negative counts from the end); out has x's shape without it",
          ]
        : []),
      ...op.params.map((p) => ` * @param ${p.name} ${p.doc}`),
      ' */',
    ];
    for (const [suffix, ret] of [
      ['', 'void'],
      ['Async', 'Promise<void>'],
    ] as const) {
      const fname = `${op.name}${suffix}`;
      out.push(...doc);
      for (const v of op.variants) {
        const targs = ts.map((t) => `${t.name}: Tensor<'${resolveDType(t.dtype, v)}'>`);
        out.push(
          `export function ${fname}(${[...targs, ...axis, ...params, 'opts?: OpOptions'].join(', ')}): ${ret};`,
        );
      }
      const impl = ts.map((t) => `${t.name}: Tensor`);
      out.push(
        `export function ${fname}(${[...impl, ...axis, ...params, 'opts?: OpOptions'].join(', ')}): ${ret} {`,
      );
      const names = ts.map((t) => t.name);
      if (op.axisView) {
        const { input, output } = op.axisView;
        out.push(`  const v = axisViews(${specName}, ${input}, ${output}, axis);`);
        const mapped = names.map((n) => (n === input ? 'v.input' : n === output ? 'v.output' : n));
        out.push(
          `  checkOp(${specName}, [${mapped.join(', ')}], [${op.params.map((p) => p.name).join(', ')}]);`,
        );
        const call = `native.${op.name}${suffix ? '_async' : ''}!(${[...mapped.map((n) => `${n}.handle`), ...op.params.map((p) => p.name), 'opts?.stream?.handle'].join(', ')})`;
        if (suffix) out.push(`  return (${call} as Promise<void>).finally(() => v.dispose());`);
        else
          out.push(
            '  try {',
            `    const timed = opTimer('${op.name}', ${names[0]}, opts?.stream);`,
            `    ${call};`,
            '    timed?.();',
            '  } finally {',
            '    v.dispose();',
            '  }',
          );
      } else {
        out.push(
          `  checkOp(${specName}, [${names.join(', ')}], [${op.params.map((p) => p.name).join(', ')}]);`,
        );
        const call = `native.${op.name}${suffix ? '_async' : ''}!(${[...names.map((n) => `${n}.handle`), ...op.params.map((p) => p.name), 'opts?.stream?.handle'].join(', ')})`;
        if (suffix) out.push(`  return ${call} as Promise<void>;`);
        else
          out.push(
            `  const timed = opTimer('${op.name}', ${names[0]}, opts?.stream);`,
            `  ${call};`,
            '  timed?.();',
          );
      }
      out.push('}', '');
    }
  }
  out.push(`/** Every op's name. */`);
  out.push(`export const OP_NAMES = ${JSON.stringify(ops.map((o) => o.name))} as const;`, '');
  return out.join('\n');
}
