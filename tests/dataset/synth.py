"""Synthetic films with known content for the dataset pipeline tests and benchmark.

Cartoon characters drawn with OpenCV, each identity with its own palette and shapes; scenes that
are deliberately blurred, dark, over-exposed, title cards, and a repeat of an earlier scene.
`SCENES` is the ground truth: what the filter must decide and who is on screen.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

W, H, FPS, SCENE_FRAMES = 320, 240, 12, 18

CHARACTERS = {
    # face (BGR), hair/hat (BGR), eyes (BGR), hat shape
    "alice": ((170, 205, 250), (200, 90, 20), (40, 160, 40), "bob"),
    "bruno": ((110, 160, 215), (30, 30, 210), (60, 40, 20), "hat"),
    "chika": ((170, 175, 255), (170, 40, 190), (150, 90, 0), "spikes"),
}


def draw_character(img: np.ndarray, who: str, cx: int, cy: int, r: int) -> None:
    face, hair, eyes, shape = CHARACTERS[who]
    if shape == "bob":
        cv2.ellipse(img, (cx, cy - r // 5), (int(r * 1.15), int(r * 1.1)), 0, 180, 360, hair, -1)
        cv2.rectangle(img, (cx - int(r * 1.15), cy - r // 5), (cx - int(r * 0.8), cy + r), hair, -1)
        cv2.rectangle(img, (cx + int(r * 0.8), cy - r // 5), (cx + int(r * 1.15), cy + r), hair, -1)
    cv2.circle(img, (cx, cy), r, face, -1)
    cv2.circle(img, (cx, cy), r, (20, 20, 20), 2)
    if shape == "hat":
        cv2.rectangle(img, (cx - int(r * 1.2), cy - int(r * 0.85)), (cx + int(r * 1.2), cy - int(r * 0.65)), hair, -1)
        cv2.rectangle(img, (cx - int(r * 0.7), cy - int(r * 1.6)), (cx + int(r * 0.7), cy - int(r * 0.8)), hair, -1)
    if shape == "spikes":
        for k in range(-2, 3):
            x = cx + k * r // 3
            pts = np.array([[x - r // 5, cy - int(r * 0.8)], [x + r // 5, cy - int(r * 0.8)], [x, cy - int(r * 1.5)]])
            cv2.fillPoly(img, [pts], hair)
    for dx in (-r // 3, r // 3):
        cv2.circle(img, (cx + dx, cy - r // 6), max(2, r // 6), (255, 255, 255), -1)
        cv2.circle(img, (cx + dx, cy - r // 6), max(1, r // 10), eyes, -1)
    cv2.ellipse(img, (cx, cy + r // 3), (r // 3, r // 6), 0, 0, 180, (30, 30, 120), 2)
    # a body so the figure is more than a head
    cv2.rectangle(img, (cx - r // 2, cy + r), (cx + r // 2, min(img.shape[0] - 1, cy + int(r * 2.2))), hair, -1)


def background(colour: tuple[int, int, int], seed: int) -> np.ndarray:
    img = np.full((H, W, 3), colour, np.uint8)
    rng = np.random.default_rng(seed)
    for _ in range(4):  # a few props (windows, trees) so frames have edges like real backgrounds
        x, y = int(rng.integers(0, W - 40)), int(rng.integers(0, H // 3))
        shade = tuple(int(c) for c in np.clip(np.array(colour) + rng.integers(-70, 70, 3), 0, 255))
        cv2.rectangle(img, (x, y), (x + int(rng.integers(15, 40)), y + int(rng.integers(15, 40))), shade, -1)
        cv2.rectangle(img, (x, y), (x + 10, y + 10), (20, 20, 20), 1)
    cv2.line(img, (0, H - 30), (W, H - 30), (40, 40, 40), 2)
    return img


@dataclass
class Scene:
    kind: str  # keep | blurry | dark | bright | title | duplicate
    bg: tuple[int, int, int] = (200, 200, 200)
    cast: list[tuple[str, int, int, int]] = field(default_factory=list)  # who, cx, cy, r
    seed: int = 0

    @property
    def characters(self) -> set[str]:
        return {c[0] for c in self.cast}


SCENES = [
    Scene("keep", (235, 225, 190), [("alice", 160, 110, 40)], 1),
    Scene("keep", (140, 200, 140), [("bruno", 150, 120, 38)], 2),
    Scene("keep", (215, 235, 175), [("chika", 90, 110, 34), ("alice", 235, 115, 34)], 3),
    Scene("blurry", (160, 210, 230), [("bruno", 160, 110, 40)], 4),
    Scene("dark", (12, 10, 14), [], 5),
    Scene("title", (90, 40, 20), [], 6),
    Scene("duplicate", (235, 225, 190), [("alice", 160, 110, 40)], 1),
    Scene("keep", (230, 200, 160), [("bruno", 160, 140, 70)], 7),
    Scene("keep", (120, 180, 220), [], 8),
    Scene("bright", (252, 252, 252), [], 9),
    Scene("keep", (210, 230, 200), [("chika", 160, 115, 42)], 10),
]


def scene_frame(scene: Scene, t: int) -> np.ndarray:
    if scene.kind == "title":
        img = np.full((H, W, 3), scene.bg, np.uint8)
        for i, line in enumerate(["THE END", "directed by A. Nobody", "music by B. Somebody", "(c) 2024 Studio"]):
            cv2.putText(img, line, (30, 60 + i * 40), cv2.FONT_HERSHEY_SIMPLEX, 0.6 if i else 1.0, (240, 240, 240), 1,
                        cv2.LINE_AA)
        return img
    if scene.kind == "dark":
        return (background((40, 35, 45), scene.seed) * 0.2).astype(np.uint8)
    if scene.kind == "bright":
        img = np.full((H, W, 3), 250, np.uint8)
        cv2.circle(img, (160, 120), 30, (255, 255, 255), -1)
        return img
    img = background(scene.bg, scene.seed)
    for who, cx, cy, r in scene.cast:
        draw_character(img, who, cx + (t % 3) - 1, cy, r)  # a little motion, like real animation
    if scene.kind == "blurry":
        img = cv2.GaussianBlur(img, (0, 0), 5)
    return img


def write_video(frames, path: Path, fps: int = FPS) -> Path:
    proc = subprocess.Popen(["ffmpeg", "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "bgr24",
                             "-s", f"{W}x{H}", "-r", str(fps), "-i", "-", "-c:v", "libx264", "-preset", "ultrafast",
                             "-crf", "12", "-g", str(fps), "-pix_fmt", "yuv420p", str(path)], stdin=subprocess.PIPE)
    for frame in frames:
        proc.stdin.write(np.ascontiguousarray(frame).tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("ffmpeg failed to write the synthetic film")
    return path


def make_film(path: Path, scenes: list[Scene] = SCENES, repeat: int = 1) -> Path:
    def frames():
        for _ in range(repeat):
            for scene in scenes:
                for t in range(SCENE_FRAMES):
                    yield scene_frame(scene, t)
    return write_video(frames(), path)


def make_refs(folder: Path) -> Path:
    """Two reference images per character, drawn at other sizes/positions on plain backdrops."""
    for who in CHARACTERS:
        (folder / who).mkdir(parents=True, exist_ok=True)
        for k, (bg, r, cx) in enumerate([((245, 245, 245), 60, 128), ((205, 215, 225), 45, 110)]):
            img = np.full((256, 256, 3), bg, np.uint8)
            draw_character(img, who, cx, 100, r)
            cv2.imwrite(str(folder / who / f"ref_{k}.png"), img)
    return folder


def library_scenes(k: int) -> list[Scene]:
    """Film k of a synthetic library: the scenes in another order, one to three left out."""
    rotated = SCENES[k % len(SCENES):] + SCENES[:k % len(SCENES)]
    return rotated[: len(SCENES) - 1 - k % 3]


def make_library(folder: Path, count: int) -> list[Path]:
    """`count` short distinct films (named with spaces and non-ASCII letters, as users name files)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = ["Épisode 1 – the lake", "episode 2 (forest)", "Episode 3", "episode 4 final", "extra 5", "extra 6"]
    return [make_film(folder / f"{names[k % len(names)]}{'' if k < len(names) else k}.mp4", library_scenes(k))
            for k in range(count)]
