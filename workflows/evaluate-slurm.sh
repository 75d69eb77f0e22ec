#!/usr/bin/env bash
# Sharded evaluation as a Slurm job array: N GPUs each evaluate one contiguous block of the
# window's peers, and the blocks are concatenated in order (equal to one unsharded run).
#
#   sbatch --array=0-3 workflows/evaluate-slurm.sh rounds/filtered-1234.jsonl
#   # when the array is done:
#   cat rounds/evaluated-1234.shard-{0..3}.jsonl > rounds/evaluated-1234.jsonl
#
#SBATCH --job-name=gauntlet-evaluate
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --time=00:20:00
set -euo pipefail
input=${1:?usage: sbatch --array=0-(N-1) $0 FILTERED.jsonl}
count=${SLURM_ARRAY_TASK_COUNT:?run as a job array}
index=${SLURM_ARRAY_TASK_ID:?run as a job array}
out=${input/filtered-/evaluated-}
out=${out%.jsonl}.shard-$index.jsonl
gauntlet evaluate "$input" --checkpoints "${CHECKPOINTS:-checkpoints}" --device cuda \
  --shard "$index/$count" --format jsonl > "$out.partial"
mv "$out.partial" "$out"
