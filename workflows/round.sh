#!/usr/bin/env bash
# One validation round as a shell pipeline, each stage's records kept for inspection and audit.
#
#   workflows/round.sh [WINDOW]
#
# Without WINDOW, `peers` picks the window the validator scores now (the clock's current window
# minus hparams.validator_offset). The config (./gauntlet.yaml or --config) names the network
# file, the cache and the data; CHECKPOINTS names the validator's checkpoint folder, OUT where
# each stage's records are kept, SYNC_STORE where the validator's sync slice goes. The same
# round in one process: `gauntlet run workflows/round.yaml`.
set -euo pipefail
CHECKPOINTS=${CHECKPOINTS:-checkpoints}
OUT=${OUT:-rounds}
window_args=()
[ $# -ge 1 ] && window_args=(--window "$1")

mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gauntlet peers "${window_args[@]}" --format jsonl > "$tmp/peers.jsonl"
window=$(head -n 1 "$tmp/peers.jsonl" | sed -n 's/.*"window":\([0-9]*\).*/\1/p')
gauntlet fetch "$tmp/peers.jsonl" --format jsonl --stats "$OUT/fetch-$window.json" \
  | tee "$OUT/fetched-$window.jsonl" \
  | gauntlet filter --checkpoints "$CHECKPOINTS" --format jsonl \
  | tee "$OUT/filtered-$window.jsonl" \
  | gauntlet dedupe --format jsonl \
  | gauntlet evaluate --checkpoints "$CHECKPOINTS" --device "${DEVICE:-auto}" --format jsonl \
  | tee "$OUT/evaluated-$window.jsonl" \
  | gauntlet rate --format jsonl > "$OUT/rated-$window.jsonl"
# The weights to the chain (or the local ledger): a failure stays pending for the next round.
gauntlet commit --format jsonl < "$OUT/rated-$window.jsonl" > /dev/null || echo "round: commit failed; the weights stay pending" >&2
# The outer step: the next window's model from the top peers.
gauntlet aggregate "$OUT/rated-$window.jsonl" --checkpoints "$CHECKPOINTS" \
  --sync-store "${SYNC_STORE:-validator}" --format jsonl > /dev/null
# A table of what happened to every peer this window.
gauntlet show "$OUT/rated-$window.jsonl" --format table >&2
