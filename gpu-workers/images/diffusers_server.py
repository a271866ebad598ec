"""OpenAI-style image generation over diffusers: GET /v1/models, POST /v1/images/generations.

Loads MODEL once at start (SDXL, Flux or any text-to-image pipeline diffusers knows), then answers
with b64_json PNGs. The worker agent is its only client; it listens on loopback.
"""
import argparse
import base64
import io
import os
import threading
import time

import torch
import uvicorn
from diffusers import AutoPipelineForText2Image
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

MODEL = os.environ["MODEL"]
pipeline = AutoPipelineForText2Image.from_pretrained(MODEL, torch_dtype=torch.float16).to("cuda")
# One generation at a time on the GPU; the agent's concurrency queues the rest.
gpu = threading.Lock()
app = FastAPI()


class Generation(BaseModel):
    model: str | None = None
    prompt: str = Field(min_length=1, max_length=4000)
    n: int = Field(default=1, ge=1, le=4)
    size: str = "1024x1024"
    response_format: str = "b64_json"
    negative_prompt: str | None = None
    seed: int | None = None
    num_inference_steps: int | None = Field(default=None, ge=1, le=100)
    guidance_scale: float | None = Field(default=None, ge=0, le=30)
    quality: str | None = None
    style: str | None = None


@app.get("/v1/models")
def models():
    return {"object": "list", "data": [{"id": MODEL, "object": "model"}]}


@app.post("/v1/images/generations")
def generate(request: Generation):
    try:
        width, height = (int(side) for side in request.size.split("x"))
    except ValueError:
        raise HTTPException(400, "size must be WIDTHxHEIGHT")
    options = {"prompt": request.prompt, "width": width, "height": height, "num_images_per_prompt": request.n}
    if request.negative_prompt:
        options["negative_prompt"] = request.negative_prompt
    if request.num_inference_steps:
        options["num_inference_steps"] = request.num_inference_steps
    if request.guidance_scale is not None:
        options["guidance_scale"] = request.guidance_scale
    if request.seed is not None:
        options["generator"] = torch.Generator("cuda").manual_seed(request.seed)
    with gpu:
        images = pipeline(**options).images
    data = []
    for image in images:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        data.append({"b64_json": base64.b64encode(buffer.getvalue()).decode()})
    return {"created": int(time.time()), "data": data}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port)
