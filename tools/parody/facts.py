"""Scene facts: one record per scene of what a parody can riff on, computed once and cached.

The record holds who is on screen and when (faces grouped into characters by SFace, or the figure that
stands out for flat characters; an unnamed character gets a role from its look: "the grey-haired one"),
what is said and by whom (the film transcript's lines, a new voice where the voice print changes), what
happens (motion peaks with their direction, cuts inside the scene, held stills, loud hits, silences) and
what is seen (the place and the descriptors' words). Times are scene seconds (0 = the scene's start).
Cached beside the scene analysis: `paths.cache_dir/video/facts/<fingerprint>.json` (the film's content,
the scene's span and FACTS_VERSION). Measurements: tools/parody/facts_measure.py.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from tools.core.context import ToolContext
from tools.core.types import ToolError
from tools.parody import facts_measure as m
from tools.parody.models import SceneRef
from tools.parody.template import place_of

FACTS_VERSION = 3
EventKind = Literal["cut", "motion_peak", "still", "loud_hit", "silence", "face_to_camera"]
BUSY_MOTION = 0.03  # mean |Δluma| between samples of a shot that moves throughout (no single peak stands out)
HAIR = {"black": "dark", "brown": "brown", "grey": "grey", "white": "white", "blonde": "blonde", "yellow": "blonde",
        "orange": "red", "red": "red"}


class OnScreen(BaseModel):
    id: str  # "c1", "c2", ... by screen time
    role: str  # from the look: "the grey-haired one", "the big orange one"
    kind: Literal["face", "figure"]
    look: str = ""  # "grey hair", "a blue coat", "orange"
    spans: list[tuple[float, float]] = Field(default_factory=list)
    share: float = 0.0  # of the scene's samples


class Said(BaseModel):
    text: str
    start: float
    end: float
    speaker: str = ""  # "voice 1", "voice 2": a new one where the voice print changes
    who: str = ""  # the role of the character on screen while it is said


class Event(BaseModel):
    kind: EventKind
    start: float
    end: float
    strength: float = 0.0
    detail: str = ""  # motion: the direction; face_to_camera: the role


class SceneFacts(BaseModel):
    version: int = FACTS_VERSION
    start: float  # film seconds of the scene
    end: float
    place: str
    place_words: dict[str, str] = Field(default_factory=dict)
    seen: list[str] = Field(default_factory=list)  # the descriptors' words
    characters: list[OnScreen] = Field(default_factory=list)
    said: list[Said] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    measured: bool = False  # pictures and sound were measured (False: only the scene's description and lines)
    notes: list[str] = Field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.end - self.start

    def offers(self) -> set[str]:
        """What a technique can need: character, face, look, second, action, said, still, cut, loud, silence, place."""
        kinds = {e.kind for e in self.events}
        out = {k for k, e in (("action", "motion_peak"), ("still", "still"), ("cut", "cut"), ("loud", "loud_hit"),
                              ("silence", "silence")) if e in kinds}
        out |= {"character"} if self.characters else set()
        out |= {"face"} if any(c.kind == "face" for c in self.characters) else set()
        out |= {"look"} if any(c.look for c in self.characters) else set()
        out |= {"second"} if len(self.characters) > 1 or len({s.speaker for s in self.said}) > 1 else set()
        out |= {"said"} if self.said else set()
        out |= {"place"} if self.place != "this place" else set()
        return out

    def summary(self) -> list[str]:
        """One short line per fact (the report and the model's prompt show these)."""
        out = [f"place: {self.place}" + (f" ({', '.join(self.seen[:4])})" if self.seen else "")]
        out += [f"on screen: {c.role} ({c.kind}, {c.look or 'look unknown'}, {c.share:.0%} of the scene)"
                for c in self.characters]
        out += [f'said at {s.start:.1f}s by {s.speaker or "someone"}{" (" + s.who + ")" if s.who else ""}: "{s.text}"'
                for s in self.said]
        out += [f"{e.kind.replace('_', ' ')} at {e.start:.1f}s" + (f" ({e.detail})" if e.detail else "")
                for e in self.events]
        return out


    def plain(self) -> list[str]:
        """What the scene shows and says, without times (a judge reads these beside each line's moment)."""
        out = [f"the place: {self.place}" + (f" ({', '.join(self.seen[:4])})" if self.seen else "")]
        out += [f"on screen: {c.role}" + (f" ({c.look})" if c.look and c.look not in c.role else "")
                for c in self.characters]
        out += [f'the film says: "{s.text}"' for s in self.said]
        return out


def with_request_place(facts: SceneFacts, request: str) -> SceneFacts:
    """The place the user's words name wins over the one the descriptors suggest ("the sunset" over "desert")."""
    named = place_of(request)
    if named["place"] == place_of("")["place"] or named["place"] == facts.place:
        return facts
    return facts.model_copy(update={"place": named["place"], "place_words": named})


def facts_without_film(scene: SceneRef) -> SceneFacts:
    """What the scene reference alone says (its description and lines): no pictures or sound measured."""
    place = place_of(scene.description)
    return SceneFacts(start=scene.start, end=scene.end, place=place["place"], place_words=place,
                      seen=_seen(scene.description),
                      said=[Said(text=l.text, start=round(l.start - scene.start, 2), end=round(l.end - scene.start, 2))
                            for l in scene.lines], notes=["no film given: only the description and the transcript"])


def _seen(description: str) -> list[str]:
    parts = [p.strip() for chunk in description.split(";") for p in chunk.split(":")[-1].split(",")]
    return [p for p in dict.fromkeys(parts) if p and len(p) < 40][:6]


def cache_path(ctx: ToolContext, film: Path, scene: SceneRef) -> Path:
    from tools.video.cache import cache_root, film_fingerprint

    key = film_fingerprint(film, {"facts": FACTS_VERSION, "span": [round(scene.start, 2), round(scene.end, 2)],
                                  "lines": [l.text for l in scene.lines]})
    return cache_root(ctx.settings).parent / "facts" / f"{key}.json"


def scene_facts(ctx: ToolContext, film: Path | None, scene: SceneRef) -> SceneFacts:
    """The scene's facts: from the cache, else measured (and cached); only the scene's words without a film."""
    if film is None or not Path(film).is_file():
        return facts_without_film(scene)
    path = cache_path(ctx, Path(film), scene)
    try:
        cached = SceneFacts.model_validate_json(path.read_text(encoding="utf-8"))
        if cached.version == FACTS_VERSION:
            return cached
    except (OSError, ValueError):
        pass
    try:
        facts = measure_facts(ctx, Path(film), scene)
    except ToolError as exc:  # an unreadable film still gets the words it has
        facts = facts_without_film(scene)
        facts.notes.append(f"not measured: {exc.message}")
        return facts
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(facts.model_dump(mode="json"), ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    ctx.trace.event("parody.facts", start=scene.start, end=scene.end, characters=len(facts.characters),
                    events=len(facts.events), said=len(facts.said))
    return facts


def measure_facts(ctx: ToolContext, film: Path, scene: SceneRef) -> SceneFacts:
    from tools.media.probe import media_info

    vs = ctx.settings.video
    info = media_info(film, vs.ffprobe)
    height = round(m.WIDTH * info.height / max(1, info.width))
    facts = facts_without_film(scene)
    facts.notes = []
    pics = m.decode_pictures(vs.ffmpeg, film, scene.start, scene.end, height)
    facts.events += _picture_events(pics)
    characters, frontal_at = _characters(pics, facts.notes)
    facts.characters = characters
    facts.events += [Event(kind="face_to_camera", start=t, end=t, strength=1.0, detail=role) for t, role in frontal_at]
    if info.has_audio:
        sound = m.decode_sound(vs.ffmpeg, film, scene.start, scene.end)
        facts.events += _sound_events(sound)
        _speakers(facts.said, sound)
    else:
        facts.notes.append("the film has no sound: no hits, silences or voices")
    for said in facts.said:
        mid = (said.start + said.end) / 2
        on = [c for c in characters if any(a - 0.3 <= mid <= b + 0.3 for a, b in c.spans)]
        said.who = max(on, key=lambda c: c.share).role if on else ""
    facts.events.sort(key=lambda e: e.start)
    facts.measured = True
    return facts


def _picture_events(p: m.Pictures) -> list[Event]:
    out: list[Event] = []
    step = 1 / m.SAMPLE_FPS
    motion = np.array(p.motion, np.float32)
    cuts = np.array(p.cut_after, bool)
    for i in np.flatnonzero(cuts):
        if p.times[i] > 0.3:
            out.append(Event(kind="cut", start=p.times[i], end=p.times[i], strength=1.0))
    calm = motion[~cuts][1:] if len(motion) > 2 else motion
    if len(calm) >= 3:
        bar = max(0.02, float(calm.mean() + calm.std()))
        last = -9.0
        for i in range(1, len(motion) - 1):
            if cuts[i] or (i + 1 < len(cuts) and cuts[i + 1]):
                continue
            if motion[i] >= bar and motion[i] >= motion[i - 1] and motion[i] >= motion[i + 1] and p.times[i] - last >= 1.2:
                direction = m.flow_direction(p.frames[i - 1], p.frames[i])
                out.append(Event(kind="motion_peak", start=p.times[i], end=p.times[i], strength=round(float(motion[i]), 4),
                                 detail=direction))
                last = p.times[i]
        busy = [i for i in range(1, len(motion)) if not cuts[i]]
        if busy and not any(e.kind == "motion_peak" for e in out):  # a shot busy throughout: its strongest moment
            i = max(busy, key=lambda k: motion[k])
            if motion[i] >= BUSY_MOTION:
                out.append(Event(kind="motion_peak", start=p.times[i], end=p.times[i], strength=round(float(motion[i]), 4),
                                 detail=m.flow_direction(p.frames[i - 1], p.frames[i])))
    run = 0  # held stills: ≥ 1.2 s with next to no change
    for i in range(1, len(motion) + 1):
        still = i < len(motion) and motion[i] < 0.004 and not cuts[i]
        if still:
            run += 1
        elif run * step >= 1.2:
            out.append(Event(kind="still", start=p.times[i - run], end=p.times[i - 1], strength=round(run * step, 2)))
            run = 0
        else:
            run = 0
    return out


def _characters(p: m.Pictures, notes: list[str]) -> tuple[list[OnScreen], list[tuple[float, str]]]:
    try:
        faces = m.FaceModels()
    except (ToolError, Exception) as exc:  # cv2.error on a broken model file: flat-figure description only
        faces = None
        notes.append(f"faces not detected: {str(exc)[:120]}")
    tracks: list[dict] = []  # {emb, times, hair, coat, area, frontal_first}
    frontal: list[tuple[float, int]] = []
    n = len(p.frames)
    picks = range(0, n, 2)
    for i in picks if faces is not None else []:
        frame = p.frames[i]
        for row, emb in faces.faces(frame):
            sims = [float(emb @ t["emb"]) for t in tracks]
            k = int(np.argmax(sims)) if sims and max(sims) >= m.SAME_FACE else -1
            if k < 0:
                tracks.append({"emb": emb, "times": [], "hair": [], "coat": [], "area": []})
                k = len(tracks) - 1
            t = tracks[k]
            x, y, w, h = (int(v) for v in row[:4])
            t["times"].append(p.times[i])
            t["hair"].append(m.colour_name(frame[max(0, y - h // 3):max(1, y + h // 8), max(0, x):x + w]))
            t["coat"].append(m.colour_name(frame[min(frame.shape[0] - 1, y + int(1.3 * h)):y + int(2.3 * h), max(0, x):x + w]))
            t["area"].append(w * h / (frame.shape[0] * frame.shape[1]))
            if m.frontal(row) and not any(j == k for _, j in frontal):
                frontal.append((p.times[i], k))
    characters: list[OnScreen] = []
    samples = max(1, len(picks))
    for k, t in enumerate(tracks):
        if len(t["times"]) < 2:
            continue
        hair = _mode(t["hair"])
        coat = _mode(t["coat"])
        look = f"{HAIR[hair]} hair" if hair in HAIR else f"{coat} clothes" if coat else ""
        role = f"the {HAIR[hair]}-haired one" if hair in HAIR else f"the one in {coat}" if coat else "the stranger"
        characters.append(OnScreen(id=str(k), role=role, kind="face", look=look, spans=_spans(t["times"]),
                                   share=round(len(t["times"]) / samples, 3)))
    if not characters:  # no face: the figure that stands out (flat 2D characters)
        found = [(p.times[i], m.figure(p.frames[i])) for i in picks]
        found = [(t, f) for t, f in found if f is not None]
        if len(found) >= max(2, samples // 3):
            colour = _mode([f[1] for _, f in found])
            area = float(np.median([f[0][2] * f[0][3] for _, f in found])) / (p.frames[0].shape[0] * p.frames[0].shape[1])
            size = "big" if area > 0.06 else "small"
            characters.append(OnScreen(id="0", role=f"the {size} {colour} one", kind="figure", look=f"{colour} colour",
                                       spans=_spans([t for t, _ in found]), share=round(len(found) / samples, 3)))
    _distinct_roles(characters)
    characters.sort(key=lambda c: -c.share)
    for i, c in enumerate(characters):
        c.id = f"c{i + 1}"
    roles = {c.spans[0]: c.role for c in characters}
    events = []
    for t, k in frontal:
        tr = tracks[k]
        role = next((r for (a, _), r in roles.items() if a == _spans(tr["times"])[0][0]), "") if len(tr["times"]) >= 2 else ""
        if role:
            events.append((t, role))
    return characters, events


def _distinct_roles(chars: list[OnScreen]) -> None:
    seen: dict[str, int] = {}
    for c in chars:
        seen[c.role] = seen.get(c.role, 0) + 1
        if seen[c.role] > 1:
            c.role = c.role.replace("the ", f"the other ", 1)


def _mode(values: list[str]) -> str:
    values = [v for v in values if v]
    return max(set(values), key=values.count) if values else ""


def _spans(times: list[float], gap: float = 1.0) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for t in sorted(times):
        if out and t - out[-1][1] <= gap:
            out[-1][1] = t
        else:
            out.append([t, t])
    return [(round(a, 2), round(b + 1 / m.SAMPLE_FPS, 2)) for a, b in out]


def _sound_events(samples: np.ndarray) -> list[Event]:
    db = m.rms_db(samples)
    if len(db) < 10:
        return []
    out: list[Event] = []
    median = float(np.median(db))
    back = int(0.3 / m.WINDOW_S)
    last = -9.0
    for i in range(back, len(db)):
        t = i * m.WINDOW_S
        rise = float(db[i] - db[i - back:i].min())
        if db[i] > -30 and db[i] > median + 10 and rise > 9 and t - last >= 0.8:
            out.append(Event(kind="loud_hit", start=round(t, 2), end=round(t, 2), strength=round(float(db[i]), 1)))
            last = t
    quiet = db < max(-50.0, median - 20)
    run = 0
    for i in range(len(db) + 1):
        if i < len(db) and quiet[i]:
            run += 1
            continue
        if run * m.WINDOW_S >= 0.8:
            out.append(Event(kind="silence", start=round((i - run) * m.WINDOW_S, 2), end=round(i * m.WINDOW_S, 2),
                             strength=round(run * m.WINDOW_S, 2)))
        run = 0
    return out


def _speakers(said: list[Said], samples: np.ndarray) -> None:
    """A new voice where the voice print (spectral centroid, pitch) moves far from every voice heard so far."""
    voices: list[tuple[float, float]] = []
    for s in said:
        seg = samples[max(0, int(s.start * m.AUDIO_RATE)):int(s.end * m.AUDIO_RATE)]
        vp = m.voice_print(seg)
        if vp is None:
            s.speaker = f"voice {len(voices) or 1}" if voices else "voice 1"
            voices = voices or [(0.0, 0.0)]
            continue
        match = [i for i, (c, f) in enumerate(voices) if c and abs(vp[0] - c) / c < 0.25
                 and (not f or not vp[1] or abs(vp[1] - f) / f < 0.3)]
        if match:
            s.speaker = f"voice {match[0] + 1}"
        else:
            voices.append(vp)
            s.speaker = f"voice {len(voices)}"
