"""The five scenes of "The Tide Keeper" as frame painters.

A painter is built once per scene (static layers precomputed), then called per time `t` (seconds into
the scene) and returns a BGR uint8 frame. Animated parts are vectorised numpy (water) or a handful
of OpenCV primitives, so a 40 s film renders in seconds on two cores.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from tools.media.sample_characters import AA, bgr, draw_brine, draw_gull, draw_pip

Painter = Callable[[float], np.ndarray]


@dataclass(frozen=True)
class SceneSpec:
    name: str
    share: float  # fraction of the film's length
    characters: tuple[str, ...]
    description: str
    painter: Callable[[int, int, np.random.Generator], Painter]


def gradient(h: int, w: int, stops: list[tuple[float, tuple[int, int, int]]]) -> np.ndarray:
    """Vertical gradient through RGB colour stops at fractions of the height; returns BGR uint8."""
    ys = np.linspace(0.0, 1.0, h)
    pos = [p for p, _ in stops]
    cols = np.stack([np.interp(ys, pos, [c[k] for _, c in stops]) for k in (2, 1, 0)], axis=1)
    return np.repeat(cols[:, None, :], w, axis=1).astype(np.uint8)


def _stars(img: np.ndarray, rng: np.random.Generator, n: int, max_y: int) -> np.ndarray:
    pts = np.stack([rng.integers(0, img.shape[1], n), rng.integers(0, max(1, max_y), n)], axis=1)
    for x, y in pts:
        img[y, x] = (235, 235, 255)
    return pts


def title_painter(w: int, h: int, rng: np.random.Generator) -> Painter:
    bg = gradient(h, w, [(0.0, (6, 8, 24)), (1.0, (18, 24, 52))])
    stars = _stars(bg, rng, 90, h)
    text = bg.copy()
    font, scale = cv2.FONT_HERSHEY_TRIPLEX, h / 200
    (tw, th), _ = cv2.getTextSize("The Tide Keeper", font, scale, 2)
    cv2.putText(text, "The Tide Keeper", (int((w - tw) / 2), int(h * 0.48)), font, scale, bgr(250, 214, 120), 2, AA)
    sub = "an Animation AI Studio sample film"
    (sw, _), _ = cv2.getTextSize(sub, cv2.FONT_HERSHEY_SIMPLEX, h / 600, 1)
    cv2.putText(text, sub, (int((w - sw) / 2), int(h * 0.62)), cv2.FONT_HERSHEY_SIMPLEX, h / 600,
                bgr(170, 190, 230), 1, AA)
    cv2.line(text, (int(w * 0.3), int(h * 0.54)), (int(w * 0.7), int(h * 0.54)), bgr(90, 150, 200), 1, AA)
    phases = rng.uniform(0, 2 * math.pi, len(stars))

    def paint(t: float) -> np.ndarray:
        alpha = min(1.0, 0.35 + t / 1.5)  # the title glows in over the dark card
        frame = cv2.addWeighted(text, alpha, bg, 1 - alpha, 0)
        lit = np.sin(t * 3 + phases) > 0.6
        for (x, y) in stars[lit]:
            cv2.circle(frame, (int(x), int(y)), 1, (255, 255, 255), -1, AA)
        return frame

    return paint


def ocean_painter(w: int, h: int, rng: np.random.Generator) -> Painter:
    horizon = int(h * 0.28)
    sky = gradient(horizon, w, [(0.0, (96, 170, 235)), (1.0, (170, 220, 248))])
    sea_h = h - horizon
    ys, xs = np.mgrid[0:sea_h, 0:w].astype(np.float32)
    depth = ys / sea_h
    far, near = np.array(bgr(120, 214, 230), np.float32), np.array(bgr(10, 110, 190), np.float32)
    base = far[None, None, :] * (1 - depth[..., None]) + near[None, None, :] * depth[..., None]
    kx = 0.035 / (0.25 + depth)  # waves stretch as they come closer
    sand = gradient(sea_h, w, [(0.0, (236, 214, 160)), (1.0, (214, 186, 128))]).astype(np.float32)
    sand += rng.normal(0, 5, sand.shape).astype(np.float32)  # grain
    clouds = [(rng.uniform(0, w), rng.uniform(0.05, 0.18) * h, rng.uniform(0.05, 0.09) * w) for _ in range(4)]

    def paint(t: float) -> np.ndarray:
        frame = np.empty((h, w, 3), np.uint8)
        frame[:horizon] = sky
        for cx, cy, r in clouds:
            x = (cx + t * 12) % (w + 2 * r) - r
            for dx, dy, k in ((0, 0, 1.0), (-0.6, 0.2, 0.7), (0.6, 0.2, 0.75)):
                cv2.ellipse(frame, (int(x + dx * r), int(cy + dy * r)), (int(r * k), int(r * 0.45 * k)), 0, 0, 360,
                            (252, 252, 252), -1, AA)
        wave = 0.6 * np.sin(xs * kx + t * 2.2 + depth * 40) + 0.4 * np.sin(xs * kx * 0.55 - t * 1.4 + depth * 23)
        water = base + wave[..., None] * 14 + (wave > 0.82)[..., None] * 55  # crests catch light
        shore = sea_h * 0.8 + 6 * np.sin(xs[0] * 0.018 + t * 1.3)
        on_sand = ys > shore[None, :]
        foam = (ys > shore[None, :] - 3) & ~on_sand
        water = np.where(on_sand[..., None], sand, water)
        water[foam] = 245
        frame[horizon:] = np.clip(water, 0, 255).astype(np.uint8)
        jump = t % 4.0
        lift = 0.18 * h * max(0.0, math.sin(math.pi * (jump - 3.0) / 1.0)) if jump > 3.0 else 0.0
        draw_pip(frame, w * 0.5 + w * 0.18 * math.sin(t * 0.5), horizon + sea_h * 0.42 + 5 * math.sin(t * 3) - lift,
                 h * 0.085, t)
        return frame

    return paint


def forest_painter(w: int, h: int, rng: np.random.Generator) -> Painter:
    bg = gradient(h, w, [(0.0, (200, 226, 170)), (0.45, (160, 200, 120)), (0.46, (64, 120, 52)), (1.0, (40, 92, 36))])
    for k in range(7):  # distant hills
        cx = int(w * (k / 6) + rng.uniform(-30, 30))
        cv2.ellipse(bg, (cx, int(h * 0.47)), (int(w * 0.14), int(h * 0.14)), 0, 180, 360, bgr(70, 122, 72), -1, AA)
    path = np.array([(int(w * 0.47), int(h * 0.46)), (int(w * 0.53), int(h * 0.46)), (int(w * 0.8), h),
                     (int(w * 0.2), h)])
    cv2.fillPoly(bg, [path], bgr(150, 104, 58), AA)
    trees = [(w * x, h * y, s) for x, y, s in ((0.06, 0.92, 1.25), (0.2, 0.7, 0.85), (0.33, 0.58, 0.6),
                                               (0.67, 0.58, 0.6), (0.8, 0.7, 0.85), (0.95, 0.92, 1.25))]
    for x, y, s in trees:
        cv2.rectangle(bg, (int(x - 7 * s), int(y - 90 * s * h / 360)), (int(x + 7 * s), int(y)), bgr(96, 62, 34), -1)
    leaves = np.stack([rng.uniform(0, w, 30), rng.uniform(0, h, 30), rng.uniform(20, 45, 30),
                       rng.uniform(0, 2 * math.pi, 30)], axis=1)
    leaf_cols = [bgr(230, 150, 40), bgr(200, 90, 30), bgr(140, 200, 60)]

    def paint(t: float) -> np.ndarray:
        frame = bg.copy()
        for x, y, s in trees:
            sway = 4 * s * math.sin(t * 1.3 + x * 0.01)
            top = y - 90 * s * h / 360
            for dx, dy, r in ((0, -18, 34), (-22, 0, 28), (22, 0, 28), (0, 10, 30)):
                cv2.circle(frame, (int(x + dx * s + sway), int(top + dy * s)), int(r * s * h / 360),
                           bgr(34, 110 + int(20 * s), 44), -1, AA)
        for k, (x0, y0, speed, ph) in enumerate(leaves):
            x = (x0 + 25 * math.sin(t * 1.7 + ph)) % w
            y = (y0 + speed * t) % h
            cv2.ellipse(frame, (int(x), int(y)), (5, 2), math.degrees(t * 2 + ph), 0, 360, leaf_cols[k % 3], -1, AA)
        walk = t / 8.0
        draw_pip(frame, w * (0.25 + 0.5 * (walk % 1.0)), h * 0.8 - abs(math.sin(t * 6)) * h * 0.03, h * 0.07, t)
        return frame

    return paint


def night_painter(w: int, h: int, rng: np.random.Generator) -> Painter:
    water_y = int(h * 0.68)
    bg = gradient(h, w, [(0.0, (8, 12, 40)), (0.68, (28, 40, 96)), (0.681, (10, 24, 58)), (1.0, (6, 14, 36))])
    stars = _stars(bg, rng, 70, int(h * 0.4))
    cv2.circle(bg, (int(w * 0.15), int(h * 0.15)), int(h * 0.06), bgr(240, 236, 200), -1, AA)
    windows = []
    x = 0.0
    while x < w * 0.62:  # a row of harbour houses with windows
        hw, hh = rng.uniform(0.07, 0.11) * w, rng.uniform(0.18, 0.32) * h
        shade = bgr(*(int(v) for v in rng.integers(30, 60, 3)))
        cv2.rectangle(bg, (int(x), int(water_y - hh)), (int(x + hw), water_y), shade, -1)
        roof = np.array([(int(x - 3), int(water_y - hh)), (int(x + hw / 2), int(water_y - hh - 0.08 * h)),
                         (int(x + hw + 3), int(water_y - hh))])
        cv2.fillPoly(bg, [roof], bgr(60, 30, 40), AA)
        for wx in np.arange(x + hw * 0.2, x + hw * 0.8, hw * 0.35):
            for wy in np.arange(water_y - hh + 0.05 * h, water_y - 0.06 * h, 0.08 * h):
                windows.append((int(wx), int(wy), int(hw * 0.18), int(0.04 * h)))
        x += hw + rng.uniform(2, 8)
    cv2.rectangle(bg, (int(w * 0.64), int(h * 0.74)), (w, int(h * 0.79)), bgr(90, 62, 40), -1)  # the pier
    for px in range(int(w * 0.66), w, int(w * 0.06)):
        cv2.rectangle(bg, (px, int(h * 0.79)), (px + 5, h), bgr(70, 48, 30), -1)
    lit = rng.uniform(0, 1, len(windows)) < 0.7
    flicker = rng.uniform(0, 2 * math.pi, len(windows))
    twinkle = rng.uniform(0, 2 * math.pi, len(stars))

    def paint(t: float) -> np.ndarray:
        frame = bg.copy()
        for (x, y), ph in zip(stars, twinkle):
            if math.sin(t * 2.5 + ph) > 0.3:
                cv2.circle(frame, (int(x), int(y)), 1, (255, 255, 255), -1, AA)
        for (x, y, ww, wh), on, ph in zip(windows, lit, flicker):
            glow = on and math.sin(t * 0.7 + ph) > -0.9
            cv2.rectangle(frame, (x, y), (x + ww, y + wh), bgr(255, 210, 90) if glow else bgr(40, 40, 60), -1)
            if glow:  # the window's reflection wobbles on the water
                ry = int(2 * water_y - y + 6 * math.sin(t * 2 + ph))
                if ry < h:
                    cv2.line(frame, (x, ry), (x + ww, ry), bgr(150, 130, 60), 1, AA)
        for k, bx in enumerate((0.2, 0.45)):
            bob = 4 * math.sin(t * 1.8 + k * 2)
            cx, cy = w * bx, water_y + 0.08 * h + bob
            hull = np.array([(int(cx - 0.08 * w), int(cy - 0.04 * h)), (int(cx + 0.08 * w), int(cy - 0.04 * h)),
                             (int(cx + 0.05 * w), int(cy + 0.03 * h)), (int(cx - 0.05 * w), int(cy + 0.03 * h))])
            cv2.fillPoly(frame, [hull], bgr(170, 50, 50) if k else bgr(230, 230, 230), AA)
            cv2.line(frame, (int(cx), int(cy - 0.04 * h)), (int(cx), int(cy - 0.25 * h)), bgr(200, 190, 170), 2, AA)
            sail = np.array([(int(cx + 3), int(cy - 0.24 * h)), (int(cx + 0.06 * w), int(cy - 0.06 * h)),
                             (int(cx + 3), int(cy - 0.06 * h))])
            cv2.fillPoly(frame, [sail], bgr(225, 220, 200), AA)
        draw_brine(frame, w * 0.8, h * 0.455 + 2 * math.sin(t * 1.1), h * 0.095, t)
        return frame

    return paint


def sunset_painter(w: int, h: int, rng: np.random.Generator) -> Painter:
    horizon = int(h * 0.55)
    bg = gradient(h, w, [(0.0, (110, 52, 130)), (0.3, (236, 110, 140)), (0.55, (255, 170, 80)),
                         (0.551, (196, 92, 80)), (0.82, (96, 44, 84)), (0.83, (222, 160, 120)), (1.0, (196, 132, 96))])
    sun = bg.copy()
    cv2.circle(sun, (int(w * 0.6), horizon), int(h * 0.14), bgr(255, 220, 130), -1, AA)
    bg[:horizon] = sun[:horizon]  # the sun is half set
    glints = np.stack([rng.uniform(0.45, 0.75, 40) * w, rng.uniform(horizon + 4, h * 0.8, 40),
                       rng.uniform(0, 2 * math.pi, 40)], axis=1)
    distant = [(rng.uniform(0, w), rng.uniform(0.1, 0.3) * h, rng.uniform(0, 6)) for _ in range(3)]

    def paint(t: float) -> np.ndarray:
        frame = bg.copy()
        for x, y, ph in glints:
            if math.sin(t * 3 + ph) > 0:
                half = int(6 + 10 * (y - horizon) / h)
                cv2.line(frame, (int(x - half), int(y)), (int(x + half), int(y)), bgr(255, 200, 120), 1, AA)
        for x0, y0, ph in distant:  # far-off gulls as V shapes
            x = (x0 - t * 20) % w
            f = 6 * math.sin(t * 6 + ph)
            pts = np.array([(int(x - 10), int(y0 - f)), (int(x), int(y0)), (int(x + 10), int(y0 - f))])
            cv2.polylines(frame, [pts], False, bgr(60, 30, 60), 2, AA)
        span = w + 0.4 * h
        draw_gull(frame, w + 0.2 * h - (t * w / 7.0) % span, h * 0.3 + 0.05 * h * math.sin(t * 1.5), h * 0.11, t)
        return frame

    return paint


SCENES: list[SceneSpec] = [
    SceneSpec("title", 0.125, (), "Title card 'The Tide Keeper' on a dark starry background.", title_painter),
    SceneSpec("ocean", 0.25, ("Pip",), "Blue-cyan sea with rolling waves under a bright sky, a sand strip; "
              "Pip, a teal round sea-creature kid with big eyes, bobs and jumps.", ocean_painter),
    SceneSpec("forest", 0.2, ("Pip",), "Green forest with swaying trees, a brown path and falling leaves; "
              "Pip walks along the path.", forest_painter),
    SceneSpec("night_harbour", 0.225, ("Captain Brine",), "Night harbour town: dark blue sky, stars, lit windows, "
              "bobbing boats; Captain Brine, a grumpy white-bearded fisherman in a yellow coat, on the pier.",
              night_painter),
    SceneSpec("sunset_beach", 0.2, ("Gull",), "Sunset beach: orange and pink sky, a setting sun, glittering sea; "
              "Gull the seagull flies across.", sunset_painter),
]
