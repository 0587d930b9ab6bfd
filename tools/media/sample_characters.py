"""The cast of "The Tide Keeper", drawn with OpenCV primitives on BGR frames.

Every character has a readable face (eyes with pupils, a mouth) so character and face detectors have
something real to find. Sizes are in pixels; colours are given as RGB and converted once.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

AA = cv2.LINE_AA


def bgr(r: int, g: int, b: int) -> tuple[int, int, int]:
    return (b, g, r)


PIP_TEAL = bgr(32, 178, 170)
PIP_BELLY = bgr(170, 236, 222)
BRINE_COAT = bgr(246, 196, 30)
BRINE_SKIN = bgr(240, 192, 158)
BRINE_HAT = bgr(34, 44, 86)
WHITE = bgr(250, 250, 250)
BLACK = bgr(20, 20, 26)
GREY = bgr(150, 156, 166)
ORANGE = bgr(250, 140, 30)


def _p(x: float, y: float) -> tuple[int, int]:
    return int(round(x)), int(round(y))


def _eye(img: np.ndarray, x: float, y: float, r: float, look: float, closed: bool) -> None:
    if closed:
        cv2.ellipse(img, _p(x, y), _p(r, r * 0.25), 0, 0, 180, BLACK, max(1, int(r * 0.25)), AA)
        return
    cv2.circle(img, _p(x, y), int(r), WHITE, -1, AA)
    cv2.circle(img, _p(x, y), int(r), BLACK, max(1, int(r * 0.12)), AA)
    cv2.circle(img, _p(x + look * r * 0.35, y + r * 0.1), int(r * 0.5), BLACK, -1, AA)
    cv2.circle(img, _p(x + look * r * 0.35 - r * 0.18, y - r * 0.12), max(1, int(r * 0.16)), WHITE, -1, AA)


def draw_pip(img: np.ndarray, cx: float, cy: float, r: float, t: float) -> None:
    """Pip: a teal round sea-creature kid with big eyes, fins and a wide smile."""
    fin = math.sin(t * 9) * 0.25
    for side in (-1, 1):  # side fins flap
        tip = _p(cx + side * r * 1.45, cy + r * (0.15 + side * fin))
        pts = np.array([_p(cx + side * r * 0.8, cy - r * 0.2), tip, _p(cx + side * r * 0.75, cy + r * 0.45)])
        cv2.fillPoly(img, [pts], PIP_TEAL, AA)
    crest = np.array([_p(cx - r * 0.3, cy - r * 0.85), _p(cx, cy - r * 1.35), _p(cx + r * 0.3, cy - r * 0.85)])
    cv2.fillPoly(img, [crest], bgr(20, 140, 150), AA)
    cv2.circle(img, _p(cx, cy), int(r), PIP_TEAL, -1, AA)
    cv2.ellipse(img, _p(cx, cy + r * 0.4), _p(r * 0.6, r * 0.45), 0, 0, 360, PIP_BELLY, -1, AA)
    closed = (t % 3.1) < 0.12  # a blink every few seconds
    look = math.sin(t * 0.9)
    for side in (-1, 1):
        _eye(img, cx + side * r * 0.38, cy - r * 0.22, r * 0.32, look, closed)
    cv2.ellipse(img, _p(cx, cy + r * 0.25), _p(r * 0.32, r * 0.2), 0, 10, 170, BLACK, max(2, int(r * 0.08)), AA)
    for side in (-1, 1):  # cheeks
        cv2.circle(img, _p(cx + side * r * 0.66, cy + r * 0.18), max(2, int(r * 0.12)), bgr(255, 150, 160), -1, AA)


def draw_brine(img: np.ndarray, cx: float, cy: float, s: float, t: float) -> None:
    """Captain Brine: a grumpy fisherman, round face, big white beard, yellow oilskin coat, navy cap."""
    body = np.array([_p(cx - s * 1.1, cy + s * 3.0), _p(cx - s * 0.8, cy + s * 0.8), _p(cx + s * 0.8, cy + s * 0.8),
                     _p(cx + s * 1.1, cy + s * 3.0)])
    cv2.fillPoly(img, [body], BRINE_COAT, AA)
    cv2.line(img, _p(cx, cy + s * 0.9), _p(cx, cy + s * 3.0), bgr(200, 150, 20), max(1, int(s * 0.06)), AA)
    for k in range(3):
        cv2.circle(img, _p(cx + s * 0.15, cy + s * (1.4 + 0.5 * k)), max(1, int(s * 0.08)), BLACK, -1, AA)
    arm = math.sin(t * 2.0) * s * 0.15  # a grumbling arm wave
    for side in (-1, 1):
        cv2.line(img, _p(cx + side * s * 0.85, cy + s * 1.0), _p(cx + side * s * 1.35, cy + s * 2.1 + side * arm),
                 BRINE_COAT, max(2, int(s * 0.35)), AA)
    cv2.circle(img, _p(cx, cy), int(s), BRINE_SKIN, -1, AA)
    cv2.ellipse(img, _p(cx, cy + s * 0.55), _p(s * 0.95, s * 0.75), 0, 0, 180, WHITE, -1, AA)
    cv2.ellipse(img, _p(cx, cy + s * 0.3), _p(s * 0.9, s * 0.35), 0, 180, 360, WHITE, -1, AA)
    cv2.ellipse(img, _p(cx, cy + s * 0.55), _p(s * 0.28, s * 0.12), 0, 200, 340, bgr(120, 60, 60),
                max(2, int(s * 0.08)), AA)  # the frown
    cv2.circle(img, _p(cx, cy + s * 0.12), max(2, int(s * 0.17)), bgr(226, 120, 110), -1, AA)  # nose
    closed = (t % 2.7) < 0.12
    for side in (-1, 1):
        _eye(img, cx + side * s * 0.38, cy - s * 0.18, s * 0.17, -0.5, closed)
        brow = [_p(cx + side * s * 0.62, cy - s * 0.5), _p(cx + side * s * 0.15, cy - s * 0.36)]
        cv2.line(img, brow[0], brow[1], GREY, max(2, int(s * 0.12)), AA)  # eyebrows slant down: grumpy
    cv2.ellipse(img, _p(cx, cy - s * 0.62), _p(s * 0.95, s * 0.55), 0, 180, 360, BRINE_HAT, -1, AA)
    cv2.rectangle(img, _p(cx - s * 1.05, cy - s * 0.7), _p(cx + s * 1.05, cy - s * 0.55), BRINE_HAT, -1, AA)


def draw_gull(img: np.ndarray, cx: float, cy: float, s: float, t: float) -> None:
    """Gull: a white seagull with grey wings, orange beak and a sharp eye, flying to the left."""
    flap = math.sin(t * 7.0)
    for depth, shade in ((-1, bgr(120, 126, 136)), (1, GREY)):  # far wing first, near wing on top
        tip = _p(cx + s * 0.3 * depth, cy - s * 1.3 * flap - s * 0.2)
        elbow = _p(cx + s * 0.1, cy - s * 0.6 * flap)
        wing = np.array([_p(cx - s * 0.35, cy - s * 0.05), elbow, tip, _p(cx + s * 0.55, cy - s * 0.05)])
        cv2.fillPoly(img, [wing], shade, AA)
    tail = np.array([_p(cx + s * 0.8, cy - s * 0.05), _p(cx + s * 1.35, cy - s * 0.25), _p(cx + s * 1.3, cy + s * 0.2)])
    cv2.fillPoly(img, [tail], WHITE, AA)
    cv2.ellipse(img, _p(cx, cy), _p(s * 0.95, s * 0.42), 0, 0, 360, WHITE, -1, AA)
    hx, hy = cx - s * 0.9, cy - s * 0.3
    cv2.circle(img, _p(hx, hy), int(s * 0.4), WHITE, -1, AA)
    beak = np.array([_p(hx - s * 0.3, hy - s * 0.05), _p(hx - s * 0.85, hy + s * 0.08), _p(hx - s * 0.3, hy + s * 0.15)])
    cv2.fillPoly(img, [beak], ORANGE, AA)
    cv2.circle(img, _p(hx - s * 0.08, hy - s * 0.1), max(2, int(s * 0.1)), BLACK, -1, AA)
    cv2.ellipse(img, _p(hx - s * 0.3, hy + s * 0.14), _p(s * 0.12, s * 0.05), 0, 0, 180, BLACK, 1, AA)  # grin
