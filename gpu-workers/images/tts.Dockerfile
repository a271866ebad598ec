# GPU worker image for speech endpoints: openedai-speech, which serves OpenAI's /v1/audio/speech with
# Coqui XTTS v2 (model tts-1-hd; the OpenAI voice names map to XTTS speakers in its voice config).
#   docker build -f gpu-workers/images/tts.Dockerfile -t aicloud/worker-tts .
FROM aicloud/worker-agent AS agent
FROM ghcr.io/matatonic/openedai-speech:0.18.2
COPY --from=agent /usr/local/bin/node /usr/local/bin/node
COPY --from=agent /opt/aicloud /opt/aicloud

ENV ENGINE=tts ENGINE_URL=http://127.0.0.1:8000 ENGINE_MODEL=tts-1-hd
ENTRYPOINT ["/opt/aicloud/start-worker.sh"]
CMD ["python", "speech.py", "-H", "127.0.0.1", "-P", "8000", "--xtts_device", "cuda", "--preload", "xtts"]
