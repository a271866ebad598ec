# GPU worker image for LLM endpoints: vLLM's OpenAI-compatible server plus the worker agent.
# Build from the repository root: docker build -f gpu-workers/images/vllm.Dockerfile -t aicloud/worker-vllm .
FROM vllm/vllm-openai:v0.11.0

# The agent runs on Node 22 (type stripping: no build step).
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \
 && curl -fsSL https://deb.nodesource.com/setup_22.x | bash - \
 && apt-get install -y --no-install-recommends nodejs && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/aicloud
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts
COPY gpu-workers ./gpu-workers

# vLLM serves the model named by MODEL on :8000; the agent waits for it, then takes jobs.
ENV ENGINE=vllm ENGINE_URL=http://127.0.0.1:8000
COPY gpu-workers/images/start-openai-server.sh /opt/aicloud/start.sh
ENTRYPOINT ["/opt/aicloud/start.sh"]
