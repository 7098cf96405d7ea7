// completion.ts: the shell completion scripts of `mae-cuda completion bash|zsh`: command names at
// the first word, then the chosen command's flags (a word starting with -) or file names.
export interface CompletionEntry {
  name: string;
  summary: string;
  flags: readonly string[];
}

export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

const TOP_FLAGS = '--help --version';

/** `case` arms that set `flags` to the command's flags (the same syntax in bash and zsh). */
function flagCases(entries: readonly CompletionEntry[], indent: string): string {
  return entries.map((e) => `${indent}${e.name}) flags="${[...e.flags, '--help'].join(' ')}" ;;`).join('\n');
}

function bash(entries: readonly CompletionEntry[]): string {
  return `# mae-cuda completion for bash: eval "$(mae-cuda completion bash)" (e.g. in ~/.bashrc)
_mae_cuda() {
  local cur=\${COMP_WORDS[COMP_CWORD]} flags=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${entries.map((e) => e.name).join(' ')} ${TOP_FLAGS}" -- "$cur"))
    return
  fi
  case \${COMP_WORDS[1]} in
${flagCases(entries, '    ')}
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _mae_cuda mae-cuda
`;
}

function zsh(entries: readonly CompletionEntry[]): string {
  const described = entries.map(
    (e) => `    '${e.name}:${e.summary.replaceAll("'", "'\\''").replaceAll(':', '\\:')}'`,
  );
  return `#compdef mae-cuda
# mae-cuda completion for zsh: eval "$(mae-cuda completion zsh)" (e.g. in ~/.zshrc, after compinit)
_mae_cuda() {
  local flags=""
  if (( CURRENT == 2 )); then
    local -a commands
    commands=(
${described.join('\n')}
    )
    _describe 'command' commands
    compadd -- ${TOP_FLAGS}
    return
  fi
  case $words[2] in
${flagCases(entries, '    ')}
  esac
  if [[ $PREFIX == -* ]]; then
    compadd -- \${=flags}
  else
    _files
  fi
}
compdef _mae_cuda mae-cuda
`;
}

/** The completion script for `shell`. */
export function completionScript(shell: Shell, entries: readonly CompletionEntry[]): string {
  return shell === 'bash' ? bash(entries) : zsh(entries);
}
