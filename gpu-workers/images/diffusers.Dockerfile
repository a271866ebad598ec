# GPU worker image for image endpoints (SDXL, Flux): a small diffusers server with OpenAI's
# /v1/images/generations route (diffusers_server.py), plus the worker agent.
#   docker build -f gpu-workers/images/diffusers.Dockerfile -t aicloud/worker-diffusers .
FROM aicloud/worker-agent AS agent
FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime
RUN pip install --no-cache-dir diffusers==0.31.0 transformers==4.46.3 accelerate==1.1.1 \
      safetensors==0.4.5 sentencepiece==0.2.0 fastapi==0.115.5 uvicorn==0.32.1
COPY --from=agent /usr/local/bin/node /usr/local/bin/node
COPY --from=agent /opt/aicloud /opt/aicloud
COPY gpu-workers/images/diffusers_server.py /opt/aicloud/diffusers_server.py

# MODEL is the Hugging Face id (stabilityai/stable-diffusion-xl-base-1.0, black-forest-labs/FLUX.1-dev).
ENV ENGINE=diffusers ENGINE_URL=http://127.0.0.1:8000
ENTRYPOINT ["/opt/aicloud/start-worker.sh"]
CMD ["python", "/opt/aicloud/diffusers_server.py", "--host", "127.0.0.1", "--port", "8000"]
