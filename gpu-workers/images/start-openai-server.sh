#!/usr/bin/env bash
# Starts the model server and the worker agent; the container ends when either does, so the provider
# sees a failed replica instead of a half-alive one. SIGTERM reaches the agent, which drains.
set -euo pipefail
python3 -m vllm.entrypoints.openai.api_server --model "${MODEL}" --served-model-name "${MODEL}" \
  --port 8000 --tensor-parallel-size "${GPU_COUNT:-1}" ${VLLM_ARGS:-} &
server=$!
node /opt/aicloud/gpu-workers/agent/main.ts &
agent=$!
trap 'kill -TERM "$agent" 2>/dev/null; wait "$agent"; kill -TERM "$server" 2>/dev/null' TERM INT
wait -n "$server" "$agent"
exit_code=$?
kill -TERM "$server" "$agent" 2>/dev/null || true
exit "$exit_code"
