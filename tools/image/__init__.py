"""Image generation: SDXL with LoRAs and ControlNet."""
