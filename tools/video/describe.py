"""Scene descriptions: words a user would search for, from descriptors or a vision-language model.

Descriptor text always comes first-hand from the measurements (so "ocean" finds the blue-water
scene even without a VLM). With `video.vlm_base_url` set, an OpenAI-compatible vision endpoint
captions the keyframe and its caption is prepended.
"""
from __future__ import annotations

import base64
import os
from pathlib import Path

import httpx

from tools.core.types import ToolError
from tools.video.models import SceneDescriptors


def describe_descriptors(d: SceneDescriptors, duration: float) -> str:
    """A plain-words sentence list built from the measured descriptors."""
    words: list[str] = []
    if d.brightness < 0.3 or d.dark_ratio > 0.5:
        light = "dark night scene, low light"
    elif d.brightness > 0.65:
        light = "bright daylight scene"
    else:
        light = "evenly lit scene"
    words.append(light)
    dark = light.startswith("dark")
    # An almost black frame (title card, credits, starry sky): blue-ish or bright bits are not a place.
    very_dark = d.dark_ratio > 0.85
    if very_dark:
        words.append("almost black frame: night sky, a title card or credits")
    elif d.water_ratio > 0.25:
        if dark:
            words.append("dark water at night: harbour, port, bay or sea at night")
        elif d.sky_ratio > 0.12:
            words.append("ocean or sea under a blue sky: bright blue-cyan sea water with waves and a horizon, "
                         "seascape, coast, swimming in the sea")
        elif d.water_ratio > 0.55:
            words.append("mostly blue-cyan water filling the frame: ocean, sea, possibly underwater, swimming")
        else:
            words.append("blue-cyan water: sea, lake or river")
        if d.sand_ratio > 0.08:
            words.append("sandy beach and shore")
    elif d.sky_ratio > 0.15:
        words.append("open blue sky, outdoors")
    if d.snow_ratio > 0.3 and d.saturation < 0.2 and not very_dark:
        words.append("snow, ice or fog: a cold white-grey winter landscape, snowy mountains")
    if d.sand_ratio > 0.2 and d.water_ratio <= 0.25:
        words.append("sand or desert tones, beach")
    if d.vegetation_ratio > 0.3:
        words.append("green vegetation: forest, trees, grass, nature, woods")
    elif d.vegetation_ratio > 0.1:
        words.append("some green plants or trees")
    if d.warm_ratio > 0.3 and d.brightness > 0.4:
        words.append("warm orange-red light: sunset, sunrise or fire")
    if dark and not very_dark and (d.lights_ratio > 0.005 or d.edge_density > 0.08):
        words.append("night town or city with lit windows and street lights")
    if d.dominant_colors:
        words.append("colours: " + ", ".join(c.name for c in d.dominant_colors[:3]))
    if d.motion_energy > 0.06:
        words.append("strong motion, fast action")
    elif d.motion_energy > 0.015:
        words.append("moderate motion")
    else:
        words.append("still, calm shot")
    if d.faces:
        words.append(f"{d.faces} face{'s' if d.faces > 1 else ''} visible, characters close-up")
    if d.loudness_db is not None:
        if d.loudness_db < -45:
            words.append("silent or very quiet")
        elif d.loudness_db > -18:
            words.append("loud sound")
    if duration < 1.5:
        words.append("very short shot")
    elif duration > 20:
        words.append("long shot")
    return "; ".join(words)


def caption_with_vlm(image: Path, *, base_url: str, model: str, api_key_env: str, timeout_s: float,
                     prompt: str) -> str:
    """Caption one JPEG through an OpenAI-compatible chat endpoint (image as a base64 data URL)."""
    data_url = "data:image/jpeg;base64," + base64.b64encode(image.read_bytes()).decode("ascii")
    body = {
        "model": model or "default",
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": prompt},
            {"type": "image_url", "image_url": {"url": data_url}},
        ]}],
        "max_tokens": 120,
        "temperature": 0.2,
    }
    headers = {}
    key = os.environ.get(api_key_env, "") if api_key_env else ""
    if key:
        headers["Authorization"] = f"Bearer {key}"
    url = base_url.rstrip("/") + "/chat/completions"
    try:
        resp = httpx.post(url, json=body, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise ToolError(f"The scene captioner at {base_url} is unreachable ({type(exc).__name__})",
                        "start the VLM server or clear video.vlm_base_url to use descriptor descriptions") from exc
    if resp.status_code != 200:
        raise ToolError(f"The scene captioner returned HTTP {resp.status_code}: {resp.text[:200]}",
                        "check video.vlm_model and that the server accepts image inputs")
    try:
        text = resp.json()["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ToolError("The scene captioner's reply has no choices[0].message.content",
                        "is video.vlm_base_url an OpenAI-compatible /v1 endpoint?") from exc
    return " ".join(str(text).split())
