// completion.test.ts: `mae-cuda completion bash|zsh`: the bash script completes commands and each
// command's flags when bash runs it; the zsh script parses and registers itself under compinit
// (skipped without zsh). Also `mae-cuda --version`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/mae-cuda.js', import.meta.url));
const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
const mae = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60000 });
const has = (shell: string) => spawnSync(shell, ['-c', 'exit 0']).status === 0;

describe('mae-cuda completion', () => {
  let bashScript = '';
  before(() => {
    const r = mae('completion', 'bash');
    assert.equal(r.status, 0, r.stderr);
    bashScript = r.stdout;
  });

  /** What bash offers for the words (the last one being completed). */
  function complete(...words: string[]): string[] {
    const line = `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}`;
    const r = spawnSync(
      'bash',
      ['-c', `${bashScript}\n${line}; _mae_cuda; printf '%s\\n' "\${COMPREPLY[@]}"`],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  }

  it('bash: completes the commands, then the flags of the command given', () => {
    assert.deepEqual(complete('mae-cuda', 'pre'), ['prepare', 'pretrain']);
    assert.deepEqual(complete('mae-cuda', '--v'), ['--version']);
    assert.deepEqual(complete('mae-cuda', 'pretrain', '--mask'), ['--mask-ratio', '--mask-sampling']);
    assert.deepEqual(complete('mae-cuda', 'info', '--'), ['--json', '--help']);
    assert.deepEqual(complete('mae-cuda', 'nope', '--'), []);
  });

  it('zsh: the script parses and registers _mae_cuda', function () {
    if (!has('zsh')) {
      console.log('      (no zsh: apt-get install zsh)');
      this.skip();
    }
    const r = mae('completion', 'zsh');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^#compdef mae-cuda/);
    const check = 'autoload -U compinit && compinit -u -D && eval "$(cat)" && print -r -- $_comps[mae-cuda]';
    const z = spawnSync('zsh', ['-f', '-c', check], { input: r.stdout, encoding: 'utf8' });
    assert.equal(z.status, 0, z.stderr);
    assert.equal(z.stdout.trim(), '_mae_cuda');
  });

  it('refuses a shell it does not know, naming the ones it does', () => {
    const r = mae('completion', 'fish');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /give the shell: bash or zsh/);
  });

  it('mae-cuda --version prints the package version', () => {
    const r = mae('--version');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `mae-cuda ${VERSION}\n`);
  });
});
