# GPU worker image for transcription endpoints: faster-whisper-server (speaches), which serves
# OpenAI's /v1/audio/transcriptions and /translations on CUDA, plus the worker agent.
#   docker build -f gpu-workers/images/whisper.Dockerfile -t aicloud/worker-whisper .
FROM aicloud/worker-agent AS agent
FROM ghcr.io/speaches-ai/speaches:0.8.3-cuda
USER root
COPY --from=agent /usr/local/bin/node /usr/local/bin/node
COPY --from=agent /opt/aicloud /opt/aicloud

# speaches loads the CTranslate2 model named in each request: the agent asks for ENGINE_MODEL.
ENV ENGINE=whisper ENGINE_URL=http://127.0.0.1:8000 ENGINE_MODEL=Systran/faster-whisper-large-v3 \
    WHISPER__TTL=-1 UVICORN_HOST=127.0.0.1 UVICORN_PORT=8000
ENTRYPOINT ["/opt/aicloud/start-worker.sh"]
CMD ["uvicorn", "--factory", "speaches.main:create_app", "--host", "127.0.0.1", "--port", "8000"]
