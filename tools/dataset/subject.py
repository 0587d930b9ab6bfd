"""What a LoRA trained on a dataset learns: one character of it, or the dataset as it is.

As in kohya_ss, the dataset is the subject; the trigger word is what the captions lead with. A dataset
whose metadata names one character trains that character; one that names none trains on all of its
kept frames with a trigger made from its name (or the `trigger` its metadata.json sets); one that names
several needs to be told which.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from tools.core.types import ToolError
from tools.dataset.metadata import DatasetStore, FrameItem

WHOLE_DATASET = "_dataset"  # the folder/output key of a LoRA of the whole dataset (no character)


def dataset_trigger(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "", name.lower()) or "data"
    return f"{slug}_set"  # a rare token, like a character's "<name>_chr"


@dataclass
class Subject:
    key: str  # the character, or WHOLE_DATASET
    character: str | None  # None: the whole dataset
    trigger: str
    lora_name: str
    refs: list[str] = field(default_factory=list)
    how: str = ""  # how it was chosen, said in the result

    @property
    def label(self) -> str:
        return self.character or "the whole dataset"


def choose_subject(store: DatasetStore, character: str | None) -> Subject:
    """The character asked for; else the dataset's only character; else, with none, the whole dataset."""
    meta = store.meta
    known = sorted(meta.characters)
    if character:
        if character not in meta.characters:
            hint = (f"known: {known}" if known else
                    f"dataset {meta.name} names no character: leave the character out to train on all its frames")
            raise ToolError(f"unknown character {character!r} in dataset {meta.name}", hint)
        info = meta.characters[character]
        return Subject(character, character, info.trigger, f"{meta.name}-{character}", list(info.refs), "as asked")
    if len(known) == 1:
        info = meta.characters[known[0]]
        return Subject(known[0], known[0], info.trigger, f"{meta.name}-{known[0]}", list(info.refs),
                       f"the only character dataset {meta.name} names")
    if known:
        raise ToolError(f"dataset {meta.name} names several characters: {', '.join(known)}; which one?",
                        "pass character=<one of them>")
    trigger = meta.trigger or dataset_trigger(meta.name)
    return Subject(WHOLE_DATASET, None, trigger, meta.name, [],
                   f"dataset {meta.name} names no character, so all its kept frames")


def subject_items(store: DatasetStore, subject: Subject) -> list[FrameItem]:
    """A character's captioned frames; for the whole dataset, every frame the filter kept (uncaptioned
    ones are captioned with the trigger alone)."""
    if subject.character is not None:
        from tools.dataset.export import character_items

        return character_items(store, subject.character)
    return store.items(kept_after="filter") if "filter" in store.meta.stages else store.items()
