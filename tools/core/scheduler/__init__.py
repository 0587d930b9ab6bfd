"""The resource scheduler (docs/architecture.md, Contract 2): LLM XOR SDXL on one GPU."""
from tools.core.scheduler.factory import SchedulerReport, create_scheduler, describe
from tools.core.scheduler.handles import (
    CommandHandle,
    InProcessHandle,
    LlamaSwapHandle,
    OllamaHandle,
    VLLMSleepHandle,
    release_torch_memory,
)
from tools.core.scheduler.policy import SchedulerError
from tools.core.scheduler.profiles import HardwareProfile, load_profile
from tools.core.scheduler.resource_scheduler import ModelHandle, ResourceScheduler, SwitchEvent, is_oom

__all__ = [
    "CommandHandle", "HardwareProfile", "InProcessHandle", "LlamaSwapHandle", "ModelHandle", "OllamaHandle",
    "ResourceScheduler", "SchedulerError", "SchedulerReport", "SwitchEvent", "VLLMSleepHandle",
    "create_scheduler", "describe", "is_oom", "load_profile", "release_torch_memory",
]
