"""The composed Settings model."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tools.core.settings.llm import LLMSettings
from tools.core.settings.sections import (
    AgentSettings,
    DatasetSettings,
    ImageSettings,
    LimitsSettings,
    PathsSettings,
    QualitySettings,
    RAGSettings,
    SchedulerSettings,
    StudioSettings,
    TTSSettings,
    VideoSettings,
    WebSettings,
)

CONFIG_VERSION = 1


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ANIMSTUDIO_", env_nested_delimiter="__", extra="forbid", validate_assignment=True
    )

    config_version: int = CONFIG_VERSION
    paths: PathsSettings = Field(default_factory=PathsSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    image: ImageSettings = Field(default_factory=ImageSettings)
    tts: TTSSettings = Field(default_factory=TTSSettings)
    video: VideoSettings = Field(default_factory=VideoSettings)
    dataset: DatasetSettings = Field(default_factory=DatasetSettings)
    rag: RAGSettings = Field(default_factory=RAGSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    studio: StudioSettings = Field(default_factory=StudioSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
