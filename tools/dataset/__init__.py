"""The movie→LoRA dataset pipeline stages."""
