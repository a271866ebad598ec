import type { CloudTier, ModelCategory } from '../../functions/core/catalog/categories.ts';
import type { Engine } from '../../functions/core/compute.ts';

const usd = (dollars: number) => Math.round(dollars * 1_000_000);

export interface GpuSeed {
  slug: string;
  name: string;
  vendor: string;
  memoryGb: number;
  awsInstanceType: string | null;
  capacityFamily: string | null;
  prices: Record<CloudTier, number | null>;
}

/** Prices are per GPU-hour. `null` means the tier does not offer the GPU. */
export const GPU_SEED: readonly GpuSeed[] = [
  {
    slug: 'rtx-4090',
    name: 'NVIDIA RTX 4090',
    vendor: 'nvidia',
    memoryGb: 24,
    awsInstanceType: null,
    capacityFamily: null,
    prices: { community: usd(0.34), secure: usd(0.69) },
  },
  {
    slug: 'l4',
    name: 'NVIDIA L4',
    vendor: 'nvidia',
    memoryGb: 24,
    awsInstanceType: 'g6.xlarge',
    capacityFamily: null,
    prices: { community: usd(0.43), secure: usd(0.8) },
  },
  {
    slug: 'a10g',
    name: 'NVIDIA A10G',
    vendor: 'nvidia',
    memoryGb: 24,
    awsInstanceType: 'g5.xlarge',
    capacityFamily: 'g5',
    prices: { community: null, secure: usd(1.01) },
  },
  {
    slug: 'a100-40gb',
    name: 'NVIDIA A100 40GB',
    vendor: 'nvidia',
    memoryGb: 40,
    awsInstanceType: 'p4d.24xlarge',
    capacityFamily: 'p4d',
    prices: { community: usd(1.19), secure: usd(1.64) },
  },
  {
    slug: 'a100-80gb',
    name: 'NVIDIA A100 80GB',
    vendor: 'nvidia',
    memoryGb: 80,
    awsInstanceType: 'p4de.24xlarge',
    capacityFamily: 'p4de',
    prices: { community: usd(1.64), secure: usd(1.99) },
  },
  {
    slug: 'h100-80gb',
    name: 'NVIDIA H100 80GB',
    vendor: 'nvidia',
    memoryGb: 80,
    awsInstanceType: 'p5.48xlarge',
    capacityFamily: null,
    prices: { community: usd(2.39), secure: usd(2.99) },
  },
];

export interface ModelSeed {
  slug: string;
  name: string;
  description: string;
  category: ModelCategory;
  engine: Engine;
  source: string;
  gpu: string;
  gpuCount: number;
  pricePerHourMicroUsd: number;
  contextLength: number | null;
  popularity: number;
}

export const MODEL_SEED: readonly ModelSeed[] = [
  {
    slug: 'llama-3.1-8b-instruct',
    name: 'Llama 3.1 8B Instruct',
    description: "Meta's 8B instruction-tuned model: fast general chat and tool use.",
    category: 'llm',
    engine: 'vllm',
    source: 'meta-llama/Llama-3.1-8B-Instruct',
    gpu: 'a10g',
    gpuCount: 1,
    pricePerHourMicroUsd: usd(1.01),
    contextLength: 32_768,
    popularity: 10,
  },
  {
    slug: 'llama-3.1-70b-instruct',
    name: 'Llama 3.1 70B Instruct',
    description: "Meta's 70B instruction-tuned model (AWQ INT4) for demanding reasoning and writing.",
    category: 'llm',
    engine: 'vllm',
    source: 'hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4',
    gpu: 'a100-80gb',
    gpuCount: 1,
    pricePerHourMicroUsd: usd(1.99),
    contextLength: 32_768,
    popularity: 20,
  },
  {
    slug: 'mistral-7b-instruct-v0.3',
    name: 'Mistral 7B Instruct v0.3',
    description: 'Compact instruction model with function calling.',
    category: 'llm',
    engine: 'vllm',
    source: 'mistralai/Mistral-7B-Instruct-v0.3',
    gpu: 'a10g',
    gpuCount: 1,
    pricePerHourMicroUsd: usd(1.01),
    contextLength: 32_768,
    popularity: 30,
  },
  {
    slug: 'whisper-large-v3',
    name: 'Whisper large-v3',
    description: 'Speech recognition and translation in 99 languages.',
    category: 'transcription',
    engine: 'whisper',
    source: 'openai/whisper-large-v3',
    gpu: 'l4',
    gpuCount: 1,
    pricePerHourMicroUsd: usd(0.8),
    contextLength: null,
    popularity: 40,
  },
  {
    slug: 'sdxl',
    name: 'Stable Diffusion XL 1.0',
    description: '1024×1024 text-to-image generation.',
    category: 'image',
    engine: 'diffusers',
    source: 'stabilityai/stable-diffusion-xl-base-1.0',
    gpu: 'a10g',
    gpuCount: 1,
    pricePerHourMicroUsd: usd(1.01),
    contextLength: null,
    popularity: 50,
  },
  {
    slug: 'flux-dev',
    name: 'FLUX.1 [dev]',
    description: 'High-fidelity text-to-image model from Black Forest Labs.',
    category: 'image',
    engine: 'diffusers',
    source: 'black-forest-labs/FLUX.1-dev',
    gpu: 'a100-40gb',
    gpuCount: 1,
    pricePerHourMicroUsd: usd(1.64),
    contextLength: null,
    popularity: 60,
  },
  {
    slug: 'xtts-v2',
    name: 'XTTS v2',
    description: 'Multilingual text-to-speech with voice cloning from a short sample.',
    category: 'speech',
    engine: 'tts',
    source: 'coqui/XTTS-v2',
    gpu: 'l4',
    gpuCount: 1,
    pricePerHourMicroUsd: usd(0.8),
    contextLength: null,
    popularity: 70,
  },
  {
    slug: 'bge-large-en-v1.5',
    name: 'BGE large EN v1.5',
    description: 'English text embeddings (1024 dimensions) for search and retrieval.',
    category: 'embedding',
    engine: 'vllm',
    source: 'BAAI/bge-large-en-v1.5',
    gpu: 'l4',
    gpuCount: 1,
    pricePerHourMicroUsd: usd(0.8),
    contextLength: 512,
    popularity: 80,
  },
];
