"""The resource scheduler (DESIGN Contract 2): LLM XOR SDXL on one GPU."""
from tools.scheduler.base import ModelHandle, ResourceScheduler, SchedulerError, SwitchEvent, is_oom
from tools.scheduler.factory import SchedulerReport, create_scheduler, describe
from tools.scheduler.handles import (
    CommandHandle,
    InProcessHandle,
    LlamaSwapHandle,
    OllamaHandle,
    VLLMSleepHandle,
    release_torch_memory,
)
from tools.scheduler.profiles import HardwareProfile, load_profile

__all__ = [
    "CommandHandle", "HardwareProfile", "InProcessHandle", "LlamaSwapHandle", "ModelHandle", "OllamaHandle",
    "ResourceScheduler", "SchedulerError", "SchedulerReport", "SwitchEvent", "VLLMSleepHandle",
    "create_scheduler", "describe", "is_oom", "load_profile", "release_torch_memory",
]
