"""The resource scheduler (DESIGN Contract 2): LLM XOR SDXL on one GPU."""
from tools.scheduler.base import ModelHandle, ResourceScheduler, SwitchEvent, create_scheduler, is_oom

__all__ = ["ModelHandle", "ResourceScheduler", "SwitchEvent", "create_scheduler", "is_oom"]
