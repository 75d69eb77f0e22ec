# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_gauntlet_global_optspecs
    string join \n config= set= format= q/quiet v/verbose h/help V/version
end

function __fish_gauntlet_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_gauntlet_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_gauntlet_using_subcommand
    set -l cmd (__fish_gauntlet_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c gauntlet -n "__fish_gauntlet_needs_command" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_needs_command" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_needs_command" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_needs_command" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "config" -d 'Print the effective configuration (defaults < file < environment < --set), secrets redacted'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "completions" -d 'Print the completion script for a shell'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "data" -d 'Training data: token shards and page assignment'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "model" -d 'Models: presets, checkpoints, losses'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "peers" -d 'The window\'s participants: uid, hotkey, stake and bucket (never credentials), one record each'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "fetch" -d 'Download each peer\'s pseudo-gradient and sync slice into the cache; the record gains `object`'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "filter" -d 'Stage 1: mark peers that uploaded early or late, whose file is malformed, or that are out of sync'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "dedupe" -d 'Mark peers whose upload copies another\'s of the same window (the later uploader is blamed)'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "evaluate" -d 'Measure each peer\'s update: loss before and after on its own pages and on common random pages'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "select" -d 'Choose the peers to evaluate this window (rating bins and waiting counters); mark the rest not_selected'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "rate" -d 'Apply a window\'s evaluations to the validator\'s state; records gain `rating` and `weight`'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "commit" -d 'Send the newest pending weights from the state to the chain; records pass through unchanged'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "aggregate" -d 'Apply the top-G peers\' combined update to the validator\'s model; records pass through'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "run" -d 'Run a validation round from a workflow file, in one process; the last stage\'s records to stdout'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "audit" -d 'One peer explained: each stage\'s figures, statuses and reasons, and how its weight follows'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "state" -d 'The validator\'s state: ratings, weights, history'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "peer" -d 'Act as a peer for one window: train on the assigned pages, upload the pseudo-gradient and sync slice'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "inspect" -d 'Check a peer\'s uploaded file against the configured model and codec, and say why it is refused'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "convert" -d 'Convert a pseudo-gradient between the reference\'s torch.save format (.pt) and the native one'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "show" -d 'Show records as a table (on a terminal), JSON lines or JSON; checks every line on the way'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "demo" -d 'Run a whole local network on the embedded defaults (examples/local.yaml, compiled in)'
complete -c gauntlet -n "__fish_gauntlet_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand config" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand config" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand config" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand config" -l sources -d 'Show where each value comes from, and its environment variable'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand config" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand config" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand config" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand config" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand completions" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand completions" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand completions" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand completions" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand completions" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand completions" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand completions" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and not __fish_seen_subcommand_from pack info pages help" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and not __fish_seen_subcommand_from pack info pages help" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and not __fish_seen_subcommand_from pack info pages help" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and not __fish_seen_subcommand_from pack info pages help" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and not __fish_seen_subcommand_from pack info pages help" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and not __fish_seen_subcommand_from pack info pages help" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and not __fish_seen_subcommand_from pack info pages help" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and not __fish_seen_subcommand_from pack info pages help" -f -a "pack" -d 'Pack text files into token shards (byte-level tokens unless --tokenizer is given)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and not __fish_seen_subcommand_from pack info pages help" -f -a "info" -d 'Describe a shard folder: tokens, documents, pages under the current hparams'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and not __fish_seen_subcommand_from pack info pages help" -f -a "pages" -d 'Show the pages a peer trains on in a window, or the window\'s random pages'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and not __fish_seen_subcommand_from pack info pages help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pack" -s o -l out -d 'Output folder [default: data.shards from the config]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pack" -l tokenizer -d 'A Hugging Face tokenizer.json [default: one token per byte]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pack" -l eos-token -d 'End-of-document token of the tokenizer [default: </s>, <|endoftext|>, … whichever exists]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pack" -l split -d 'What makes one document' -r -f -a "file\t''
paragraph\t''
line\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pack" -l shard-tokens -d 'Tokens per shard file' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pack" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pack" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pack" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pack" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pack" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pack" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pack" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from info" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from info" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from info" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from info" -l verify -d 'Also check every shard\'s BLAKE3 hash against the manifest'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from info" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from info" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from info" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from info" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pages" -l uid -d 'The peer' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pages" -l window -d 'The window' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pages" -l windows -d 'Also show this many following windows' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pages" -l random -d 'Show the window\'s random pages for this validator seed instead, excluding the pages of --exclude peers' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pages" -l exclude -d 'Peers whose assigned pages the random pages avoid (with --random)' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pages" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pages" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pages" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pages" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pages" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pages" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from pages" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from help" -f -a "pack" -d 'Pack text files into token shards (byte-level tokens unless --tokenizer is given)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from help" -f -a "info" -d 'Describe a shard folder: tokens, documents, pages under the current hparams'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from help" -f -a "pages" -d 'Show the pages a peer trains on in a window, or the window\'s random pages'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand data; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and not __fish_seen_subcommand_from info init loss help" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and not __fish_seen_subcommand_from info init loss help" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and not __fish_seen_subcommand_from info init loss help" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and not __fish_seen_subcommand_from info init loss help" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and not __fish_seen_subcommand_from info init loss help" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and not __fish_seen_subcommand_from info init loss help" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and not __fish_seen_subcommand_from info init loss help" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and not __fish_seen_subcommand_from info init loss help" -f -a "info" -d 'Describe a model preset: its config, parameter count, and (with --shapes) every tensor'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and not __fish_seen_subcommand_from info init loss help" -f -a "init" -d 'Write a freshly initialised checkpoint (seeded by model.init_seed)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and not __fish_seen_subcommand_from info init loss help" -f -a "loss" -d 'Mean next-token loss of a checkpoint on some pages of the data'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and not __fish_seen_subcommand_from info init loss help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from info" -l preset -d 'Preset name or config.json [default: model.preset from the config]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from info" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from info" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from info" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from info" -l shapes -d 'List every parameter\'s name and shape'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from info" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from info" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from info" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from info" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from init" -s o -l out -d 'Where to write: a .safetensors file, or a folder with --shard-size' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from init" -l shard-size -d 'Split into files of at most this many bytes, with a model.safetensors.index.json' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from init" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from init" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from init" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from init" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from init" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from init" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from loss" -l checkpoint -d 'The checkpoint: a .safetensors file, an index .json, or a folder' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from loss" -l pages -d 'Pages to measure on' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from loss" -l uid -d 'Measure on the pages this peer is assigned in --window' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from loss" -l window -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from loss" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from loss" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from loss" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from loss" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from loss" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from loss" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from loss" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from help" -f -a "info" -d 'Describe a model preset: its config, parameter count, and (with --shapes) every tensor'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from help" -f -a "init" -d 'Write a freshly initialised checkpoint (seeded by model.init_seed)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from help" -f -a "loss" -d 'Mean next-token loss of a checkpoint on some pages of the data'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand model; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peers" -l window -d 'The window [default: the current window − validator_offset]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peers" -l network -d 'finney, test, local, a ws(s):// URL, or a local network file [default: chain.network, else network.file]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peers" -l netuid -d 'The subnet [default: chain.netuid]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peers" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peers" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peers" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peers" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peers" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peers" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peers" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand fetch" -l network -d 'finney, test, local, a ws(s):// URL, or a local network file [default: chain.network, else network.file]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand fetch" -l netuid -d 'The subnet [default: chain.netuid]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand fetch" -l stats -d 'Write a JSON summary (objects fetched, from cache, failed, bytes downloaded) here' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand fetch" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand fetch" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand fetch" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand fetch" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand fetch" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand fetch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand fetch" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand filter" -l checkpoints -d 'Folder of checkpoint-{window}.safetensors files (the newest at or before the window is used)' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand filter" -l checkpoint -d 'One checkpoint to use whatever the window' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand filter" -l network -d 'finney, test, local, a ws(s):// URL, or a local network file [default: chain.network, else network.file]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand filter" -l netuid -d 'The subnet [default: chain.netuid]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand filter" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand filter" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand filter" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand filter" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand filter" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand filter" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand filter" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand dedupe" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand dedupe" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand dedupe" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand dedupe" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand dedupe" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand dedupe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand dedupe" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand evaluate" -l checkpoints -d 'Folder of checkpoint-{window}.safetensors files (the newest at or before the window is used)' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand evaluate" -l checkpoint -d 'One checkpoint to use whatever the window' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand evaluate" -l device -d 'auto, cpu, cuda or cuda:N [default: runtime.device]; bf16 compute on CUDA, f32 on CPU' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand evaluate" -l shard -d 'Evaluate only the K-th of N blocks of peers (K from 0)' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand evaluate" -l network -d 'finney, test, local, a ws(s):// URL, or a local network file [default: chain.network, else network.file]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand evaluate" -l netuid -d 'The subnet [default: chain.netuid]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand evaluate" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand evaluate" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand evaluate" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand evaluate" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand evaluate" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand evaluate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand evaluate" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand select" -l state -d 'The state database [default: state.path]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand select" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand select" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand select" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand select" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand select" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand select" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand select" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand rate" -l state -d 'The state database [default: state.path]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand rate" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand rate" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand rate" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand rate" -l force -d 'Apply the records as they are: part of a window, a window not begun, or out of order'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand rate" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand rate" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand rate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand rate" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand commit" -l state -d 'The state database [default: state.path]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand commit" -l network -d 'finney, test, local, a ws(s):// URL, or a local network file [default: chain.network, else network.file]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand commit" -l netuid -d 'The subnet [default: chain.netuid]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand commit" -l wallet-name -d 'The wallet [default: chain.wallet_name]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand commit" -l wallet-hotkey -d 'The hotkey that signs [default: chain.wallet_hotkey]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand commit" -l wallet-path -d 'The wallets folder [default: chain.wallet_path]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand commit" -l version-key -d 'The weights\' version key [default: chain.version_key, else the subnet\'s]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand commit" -l hotkey-ss58 -d 'With --dry-run: the validator\'s hotkey by its ss58 address, where its wallet is not on this machine (nothing can be signed with it)' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand commit" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand commit" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand commit" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand commit" -l dry-run -d 'Print each call and its encoded bytes instead of sending it; change nothing'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand commit" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand commit" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand commit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand commit" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand aggregate" -l checkpoints -d 'The validator\'s checkpoint folder (checkpoint-{window}.safetensors files)' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand aggregate" -l sync-store -d 'Folder that receives the validator\'s sync slice of the new model' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand aggregate" -l uid -d 'The validator\'s uid in the sync slice\'s key' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand aggregate" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand aggregate" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand aggregate" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand aggregate" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand aggregate" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand aggregate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand aggregate" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand run" -l window -d 'The window [default: the workflow\'s, else the current window − validator_offset]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand run" -l state -d 'The state database [default: state.path]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand run" -l keep -d 'Keep each stage\'s records in DIR [default: the workflow\'s keep]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand run" -l network -d 'finney, test, local, a ws(s):// URL, or a local network file [default: chain.network, else network.file]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand run" -l netuid -d 'The subnet [default: chain.netuid]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand run" -l wallet-name -d 'The wallet [default: chain.wallet_name]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand run" -l wallet-hotkey -d 'The hotkey that signs [default: chain.wallet_hotkey]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand run" -l wallet-path -d 'The wallets folder [default: chain.wallet_path]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand run" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand run" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand run" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand run" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand run" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand run" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand audit" -l uid -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand audit" -l window -d 'One window' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand audit" -l last -d 'The peer\'s last N windows' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand audit" -l state -d 'The state database [default: state.path]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand audit" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand audit" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand audit" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand audit" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand audit" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand audit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand audit" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and not __fish_seen_subcommand_from export import weights peers records forget backup help" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and not __fish_seen_subcommand_from export import weights peers records forget backup help" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and not __fish_seen_subcommand_from export import weights peers records forget backup help" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and not __fish_seen_subcommand_from export import weights peers records forget backup help" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and not __fish_seen_subcommand_from export import weights peers records forget backup help" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and not __fish_seen_subcommand_from export import weights peers records forget backup help" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and not __fish_seen_subcommand_from export import weights peers records forget backup help" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and not __fish_seen_subcommand_from export import weights peers records forget backup help" -f -a "export" -d 'Print every peer\'s rating as {"<uid>": {"mu", "sigma", "ordinal"}} (the reference\'s form)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and not __fish_seen_subcommand_from export import weights peers records forget backup help" -f -a "import" -d 'Load ratings from that form (e.g. a reference validator\'s), in one transaction'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and not __fish_seen_subcommand_from export import weights peers records forget backup help" -f -a "weights" -d 'The weights of a window [default: the latest]'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and not __fish_seen_subcommand_from export import weights peers records forget backup help" -f -a "peers" -d 'Every peer\'s current figures'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and not __fish_seen_subcommand_from export import weights peers records forget backup help" -f -a "records" -d 'A window\'s records as `rate` applied them, to compare, re-run or audit it'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and not __fish_seen_subcommand_from export import weights peers records forget backup help" -f -a "forget" -d 'Undo the applied windows from W on (ratings, history, weights, pending submissions), so that a damaged window can be rated again; then rate W and the windows after it in order'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and not __fish_seen_subcommand_from export import weights peers records forget backup help" -f -a "backup" -d 'Write a consistent copy of the state to FILE, safe while validators run'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and not __fish_seen_subcommand_from export import weights peers records forget backup help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from export" -l state -d 'The state database [default: state.path]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from export" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from export" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from export" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from export" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from import" -l state -d 'The state database [default: state.path]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from import" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from import" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from import" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from import" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from weights" -l window -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from weights" -l state -d 'The state database [default: state.path]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from weights" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from weights" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from weights" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from weights" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from weights" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from weights" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from weights" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from peers" -l state -d 'The state database [default: state.path]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from peers" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from peers" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from peers" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from peers" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from peers" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from peers" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from peers" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from records" -l window -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from records" -l state -d 'The state database [default: state.path]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from records" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from records" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from records" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from records" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from records" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from records" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from records" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from forget" -l window -d 'The first window to undo; every applied window after it goes too' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from forget" -l state -d 'The state database [default: state.path]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from forget" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from forget" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from forget" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from forget" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from forget" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from forget" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from forget" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from backup" -l state -d 'The state database [default: state.path]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from backup" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from backup" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from backup" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from backup" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from backup" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from backup" -s h -l help -d 'Print help'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from backup" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "export" -d 'Print every peer\'s rating as {"<uid>": {"mu", "sigma", "ordinal"}} (the reference\'s form)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "import" -d 'Load ratings from that form (e.g. a reference validator\'s), in one transaction'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "weights" -d 'The weights of a window [default: the latest]'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "peers" -d 'Every peer\'s current figures'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "records" -d 'A window\'s records as `rate` applied them, to compare, re-run or audit it'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "forget" -d 'Undo the applied windows from W on (ratings, history, weights, pending submissions), so that a damaged window can be rated again; then rate W and the windows after it in order'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "backup" -d 'Write a consistent copy of the state to FILE, safe while validators run'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l uid -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l window -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l store -d 'The store to upload to: a folder (or file:// URL) [default: the peer\'s bucket in the network file]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l network -d 'The network file whose bucket entry for --uid to upload to [default: network.file]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l checkpoints -d 'Folder of checkpoint-{window}.safetensors files (the newest at or before the window is used)' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l checkpoint -d 'One checkpoint to use whatever the window' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l state -d 'Where the error-feedback buffer is kept between windows [default: ./peer-state]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l batches -d 'Train on at most this many batches of the assigned pages' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l behave -d 'How to behave' -r -f -a "honest\t''
free-rider\t''
copycat\t''
noise\t''
zero\t''
late\t''
stale\t''
lazy\t''
desync\t''
copy-hint\t''
shuffle\t''
relabel\t''
partial\t''
feedback\t''
predict-random\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l of -d 'copycat, copy-hint, shuffle, relabel: the peer whose upload to copy (copycat: repeat to average several); predict-random: the uids the validator evaluates' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l rows -d 'partial, copy-hint: the rows of its own pages to train on' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l scale -d 'copy-hint: the hint\'s norm, per parameter, relative to the copied update\'s' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l moved -d 'shuffle: the fraction of each chunk\'s indices moved' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l perturb -d 'copycat: relative noise added to the copied values (0 = exact copy)' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l stale-by -d 'stale: train on the model of this many windows ago' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l fraction -d 'lazy: the fraction of its batches to train on' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l late-by -d 'late: seconds to upload after time' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l orthogonal -d 'copy-hint: remove the hint\'s component along the copied update'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -l with-feedback -d 'partial: send the gradient through the error-feedback buffer (as feedback does)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand peer" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand inspect" -l window -d 'Expect this window' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand inspect" -l uid -d 'Expect this uid' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand inspect" -l dense -d 'Write the decoded update of a gradient here (safetensors, float32)' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand inspect" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand inspect" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand inspect" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand inspect" -l sync -d 'The file is a sync slice [default: guessed from the name]'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand inspect" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand inspect" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand inspect" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand convert" -l uid -d 'The peer\'s uid [default: the native file\'s, or from the reference file\'s name]' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand convert" -l window -d 'Expect this window' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand convert" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand convert" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand convert" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand convert" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand convert" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand convert" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand convert" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand show" -l uid -d 'Only records of this uid' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand show" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand show" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand show" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand show" -l failed -d 'Only records whose status is not ok'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand show" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand show" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand show" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand demo" -l dir -d 'Working folder: corpus, shards, network file, buckets, checkpoints, state, ledger' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand demo" -l windows -d 'Windows to run' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand demo" -l config -d 'YAML config file [default: ./gauntlet.yaml, then ~/.config/gauntlet/config.yaml]' -r -F
complete -c gauntlet -n "__fish_gauntlet_using_subcommand demo" -l set -d 'Override one config key (repeatable), e.g. --set hparams.openskill_beta=7' -r
complete -c gauntlet -n "__fish_gauntlet_using_subcommand demo" -l format -d 'Output format: auto is a table on a terminal and JSON lines on a pipe' -r -f -a "auto\t''
jsonl\t''
json\t''
table\t''"
complete -c gauntlet -n "__fish_gauntlet_using_subcommand demo" -s q -l quiet -d 'Print nothing on stderr but warnings and errors'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand demo" -s v -l verbose -d 'Say more about what is happening (repeatable)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand demo" -s V -l version -d 'Print version'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "config" -d 'Print the effective configuration (defaults < file < environment < --set), secrets redacted'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "completions" -d 'Print the completion script for a shell'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "data" -d 'Training data: token shards and page assignment'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "model" -d 'Models: presets, checkpoints, losses'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "peers" -d 'The window\'s participants: uid, hotkey, stake and bucket (never credentials), one record each'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "fetch" -d 'Download each peer\'s pseudo-gradient and sync slice into the cache; the record gains `object`'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "filter" -d 'Stage 1: mark peers that uploaded early or late, whose file is malformed, or that are out of sync'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "dedupe" -d 'Mark peers whose upload copies another\'s of the same window (the later uploader is blamed)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "evaluate" -d 'Measure each peer\'s update: loss before and after on its own pages and on common random pages'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "select" -d 'Choose the peers to evaluate this window (rating bins and waiting counters); mark the rest not_selected'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "rate" -d 'Apply a window\'s evaluations to the validator\'s state; records gain `rating` and `weight`'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "commit" -d 'Send the newest pending weights from the state to the chain; records pass through unchanged'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "aggregate" -d 'Apply the top-G peers\' combined update to the validator\'s model; records pass through'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "run" -d 'Run a validation round from a workflow file, in one process; the last stage\'s records to stdout'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "audit" -d 'One peer explained: each stage\'s figures, statuses and reasons, and how its weight follows'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "state" -d 'The validator\'s state: ratings, weights, history'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "peer" -d 'Act as a peer for one window: train on the assigned pages, upload the pseudo-gradient and sync slice'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "inspect" -d 'Check a peer\'s uploaded file against the configured model and codec, and say why it is refused'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "convert" -d 'Convert a pseudo-gradient between the reference\'s torch.save format (.pt) and the native one'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "show" -d 'Show records as a table (on a terminal), JSON lines or JSON; checks every line on the way'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "demo" -d 'Run a whole local network on the embedded defaults (examples/local.yaml, compiled in)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and not __fish_seen_subcommand_from config completions data model peers fetch filter dedupe evaluate select rate commit aggregate run audit state peer inspect convert show demo help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and __fish_seen_subcommand_from data" -f -a "pack" -d 'Pack text files into token shards (byte-level tokens unless --tokenizer is given)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and __fish_seen_subcommand_from data" -f -a "info" -d 'Describe a shard folder: tokens, documents, pages under the current hparams'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and __fish_seen_subcommand_from data" -f -a "pages" -d 'Show the pages a peer trains on in a window, or the window\'s random pages'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and __fish_seen_subcommand_from model" -f -a "info" -d 'Describe a model preset: its config, parameter count, and (with --shapes) every tensor'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and __fish_seen_subcommand_from model" -f -a "init" -d 'Write a freshly initialised checkpoint (seeded by model.init_seed)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and __fish_seen_subcommand_from model" -f -a "loss" -d 'Mean next-token loss of a checkpoint on some pages of the data'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and __fish_seen_subcommand_from state" -f -a "export" -d 'Print every peer\'s rating as {"<uid>": {"mu", "sigma", "ordinal"}} (the reference\'s form)'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and __fish_seen_subcommand_from state" -f -a "import" -d 'Load ratings from that form (e.g. a reference validator\'s), in one transaction'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and __fish_seen_subcommand_from state" -f -a "weights" -d 'The weights of a window [default: the latest]'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and __fish_seen_subcommand_from state" -f -a "peers" -d 'Every peer\'s current figures'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and __fish_seen_subcommand_from state" -f -a "records" -d 'A window\'s records as `rate` applied them, to compare, re-run or audit it'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and __fish_seen_subcommand_from state" -f -a "forget" -d 'Undo the applied windows from W on (ratings, history, weights, pending submissions), so that a damaged window can be rated again; then rate W and the windows after it in order'
complete -c gauntlet -n "__fish_gauntlet_using_subcommand help; and __fish_seen_subcommand_from state" -f -a "backup" -d 'Write a consistent copy of the state to FILE, safe while validators run'
