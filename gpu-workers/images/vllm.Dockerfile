# GPU worker image for LLM endpoints: vLLM's OpenAI-compatible server plus the worker agent.
# Build from the repository root, after the agent stage:
#   docker build -f gpu-workers/images/agent.Dockerfile -t aicloud/worker-agent .
#   docker build -f gpu-workers/images/vllm.Dockerfile -t aicloud/worker-vllm .
FROM aicloud/worker-agent AS agent
FROM vllm/vllm-openai:v0.11.0
COPY --from=agent /usr/local/bin/node /usr/local/bin/node
COPY --from=agent /opt/aicloud /opt/aicloud

# vLLM serves the model named by MODEL (a Hugging Face id) on :8000; the agent waits for it.
ENV ENGINE=vllm ENGINE_URL=http://127.0.0.1:8000
ENTRYPOINT ["/opt/aicloud/start-worker.sh"]
CMD ["sh", "-c", "exec python3 -m vllm.entrypoints.openai.api_server --model \"$MODEL\" --served-model-name \"$MODEL\" --port 8000 --tensor-parallel-size \"${GPU_COUNT:-1}\" ${VLLM_ARGS:-}"]
