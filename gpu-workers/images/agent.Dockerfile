# The worker agent (Node 22, TypeScript run by type stripping: no build step). Every engine image
# copies /usr/local/bin/node and /opt/aicloud from this stage.
# docker build -f gpu-workers/images/agent.Dockerfile -t aicloud/worker-agent .
FROM node:22-bookworm-slim
WORKDIR /opt/aicloud
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY gpu-workers ./gpu-workers
COPY gpu-workers/images/start-worker.sh ./start-worker.sh
