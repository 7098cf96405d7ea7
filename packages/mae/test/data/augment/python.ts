// python.ts: runs small reference scripts under Debian's /usr/bin/python3 (which has torch's
// neighbours numpy and Pillow); tests skip, saying why, when it is missing what they need.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYTHON = '/usr/bin/python3';

const cache = new Map<string, string | undefined>();

/** Why `modules` cannot be imported by /usr/bin/python3, or undefined when they can. */
export function pythonMissing(modules: string[]): string | undefined {
  const key = modules.join(',');
  if (!cache.has(key)) {
    let why: string | undefined;
    if (!existsSync(PYTHON)) why = `${PYTHON} does not exist`;
    else {
      const r = spawnSync(PYTHON, ['-c', `import ${key}`], { encoding: 'utf8' });
      if (r.status !== 0) why = `${PYTHON} cannot import ${key}: ${r.stderr.trim().split('\n').pop()}`;
    }
    cache.set(key, why);
  }
  return cache.get(key);
}

/** Skips the running test (printing the reason) unless /usr/bin/python3 has `modules`. */
export function requirePython(ctx: Mocha.Context, modules: string[]): void {
  const why = pythonMissing(modules);
  if (why !== undefined) {
    console.log(`      skipped: ${why}`);
    ctx.skip();
  }
}

/** Runs `script` with `args` and `input` on stdin; returns stdout. */
export function runPython(script: string, args: string[] = [], input?: Uint8Array | string): Buffer {
  return execFileSync(PYTHON, ['-c', script, ...args], { input, maxBuffer: 1 << 28 });
}
