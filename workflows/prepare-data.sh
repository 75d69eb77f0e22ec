#!/usr/bin/env bash
# Prepares a validator's or peer's training data: packs a folder of text into token shards,
# checks them, and shows which pages a peer trains on in the next windows.
#
#   workflows/prepare-data.sh TEXT_DIR [TOKENIZER_JSON]
#
# The shards go where the config's data.shards points (GAUNTLET_DATA__SHARDS overrides it).
# Every validator and peer of a network must pack the same text with the same tokenizer and
# share data.assignment_key, or their page assignments will not agree.
set -euo pipefail
text_dir=${1:?usage: $0 TEXT_DIR [TOKENIZER_JSON]}
tokenizer=${2:-}

if [ -n "$tokenizer" ]; then
  gauntlet data pack "$text_dir" --tokenizer "$tokenizer"
else
  gauntlet data pack "$text_dir"
fi
gauntlet data info --verify
# The pages uid 0 trains on over the next three windows (an audit starts from here).
gauntlet data pages --uid 0 --window 0 --windows 3
