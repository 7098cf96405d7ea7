// docs/DSL.md shows generated code; every block marked `<!-- generated: FILE -->` must still be
// exactly what the codegen writes to FILE, so the design note cannot go stale.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generateAll } from '../../src/generate.js';

describe('docs/DSL.md', () => {
  it('quotes the generated code verbatim', () => {
    const doc = readFileSync(new URL('../../../../docs/DSL.md', import.meta.url), 'utf8');
    const files = generateAll();
    const blocks = [...doc.matchAll(/<!-- generated: (\S+) -->\n```\w*\n([\s\S]*?)\n```/g)];
    assert.ok(blocks.length >= 3, 'the doc quotes generated code');
    for (const [, file, code] of blocks)
      assert.ok(files[file!]!.includes(code!), `a block of ${file} is out of date`);
  });
});
