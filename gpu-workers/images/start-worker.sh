#!/usr/bin/env bash
# Entrypoint of every worker image: starts the model server (the image's CMD) and the worker agent;
# the container ends when either does, so the provider sees a failed replica instead of a half-alive
# one. SIGTERM reaches the agent, which drains, then the server is stopped.
set -euo pipefail
"$@" &
server=$!
node /opt/aicloud/gpu-workers/agent/main.ts &
agent=$!
trap 'kill -TERM "$agent" 2>/dev/null; wait "$agent"; kill -TERM "$server" 2>/dev/null' TERM INT
wait -n "$server" "$agent"
exit_code=$?
kill -TERM "$server" "$agent" 2>/dev/null || true
exit "$exit_code"
