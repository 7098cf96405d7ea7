// fixture.test.ts: a parity fixture that cannot be used raises a FixtureError naming the file (and
// the field, or the tensor): config.json missing, empty ("Unexpected end of JSON input" used to be
// all it said), not JSON, with a bad or missing field; a folder that is missing, a file, or lacks
// files; inputs whose shapes do not match the config.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readParityConfig } from '../../src/config/parity.js';
import { serializeSafetensors, stTensor } from '../../src/io/safetensors.js';
import { FixtureError, fixtureProblem } from '../../src/parity/fixture.js';
import { runParity } from '../../src/parity/run.js';

const ours = fileURLToPath(new URL('../fixtures/parity/grey28-p7-plain', import.meta.url));
const copy = () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'mae-fixture-')), 'case');
  cpSync(ours, dir, { recursive: true });
  return dir;
};
const fixtureError = (message: string) => (e: Error) => e instanceof FixtureError && e.message === message;

describe('parity fixture errors', () => {
  it('config.json: missing, empty, not JSON', () => {
    const dir = copy();
    const file = join(dir, 'config.json');
    writeFileSync(file, '');
    assert.throws(
      () => readParityConfig(dir),
      fixtureError(`${file}: not valid JSON (Unexpected end of JSON input)`),
    );
    writeFileSync(file, '{"img_size": 28,');
    assert.throws(
      () => readParityConfig(dir),
      (e: Error) => e instanceof FixtureError && e.message.startsWith(`${file}: not valid JSON (`),
    );
    rmSync(file);
    assert.throws(() => readParityConfig(dir), fixtureError(`${file}: no such file`));
  });

  it('config.json: every bad or missing field, by name', () => {
    const dir = copy();
    const file = join(dir, 'config.json');
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...cfg, img_size: '28', steps: -1, depth: undefined }));
    assert.throws(
      () => readParityConfig(dir),
      fixtureError(
        `${file}: field img_size: expected number, received string; field depth is missing (number expected); ` +
          'field steps: Too small: expected number to be >=0',
      ),
    );
    writeFileSync(file, JSON.stringify({ ...cfg, num_heads: 3 }));
    assert.throws(
      () => readParityConfig(dir),
      fixtureError(`${file}: field num_heads: embed_dim 32 is not divisible by num_heads 3`),
    );
  });

  it('the folder: missing, a file, lacking files', () => {
    const dir = copy();
    assert.equal(fixtureProblem(dir), undefined);
    assert.equal(fixtureProblem(join(dir, 'nope')), `${join(dir, 'nope')} does not exist`);
    assert.match(fixtureProblem(join(dir, 'config.json'))!, /config\.json is not a folder/);
    rmSync(join(dir, 'expected.safetensors'));
    rmSync(join(dir, 'after_steps.safetensors'));
    assert.match(
      fixtureProblem(dir)!,
      /case lacks expected\.safetensors, after_steps\.safetensors \(a fixture holds /,
    );
  });

  it('runParity refuses a fixture before computing, naming the file', async () => {
    const dir = copy();
    rmSync(join(dir, 'weights.safetensors'));
    await assert.rejects(
      runParity(dir),
      (e: Error) => e instanceof FixtureError && /lacks weights\.safetensors/.test(e.message),
    );
    const bad = copy();
    const noise = stTensor('F32', [3, 15], new Float32Array(45));
    const imgs = stTensor('F32', [3, 1, 28, 28], new Float32Array(3 * 784));
    writeFileSync(join(bad, 'inputs.safetensors'), serializeSafetensors({ imgs, noise }));
    await assert.rejects(
      runParity(bad),
      fixtureError(`${join(bad, 'inputs.safetensors')}: noise is [3, 15], the config implies [3, 16]`),
    );
  });
});
